// The built-in "Allowed locations" policy on this resource group: anything later created here
// outside the listed EU regions is denied (R-OPS-2), whoever creates it.

@description('Regions accepted in the resource group.')
@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param allowedLocations array

var allowedLocationsPolicy = '/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c'

resource allowedLocationsAssignment 'Microsoft.Authorization/policyAssignments@2022-06-01' = {
  name: 'popsell-gdpr-allowed-locations'
  properties: {
    displayName: 'popsell-gdpr: EU regions only (R-OPS-2)'
    description: 'Personal data of popsell-gdpr stays in the EU.'
    policyDefinitionId: allowedLocationsPolicy
    enforcementMode: 'Default'
    parameters: {
      listOfAllowedLocations: { value: allowedLocations }
    }
    nonComplianceMessages: [
      { message: 'popsell-gdpr resources must be in an EU region (R-OPS-2).' }
    ]
  }
}

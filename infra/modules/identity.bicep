// The one user-assigned managed identity every connection uses: the handler's own clients
// (AZURE_CLIENT_ID), the host's Service Bus trigger and AzureWebJobsStorage (their
// __clientId settings), Key Vault references and Application Insights.

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string
param name string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId

// popsell-gdpr in one resource group, EU regions only (R-OPS-2): a Flex Consumption function
// app running the Go custom handler, Cosmos DB, Service Bus, Storage, Key Vault and
// Application Insights, reached through one user-assigned managed identity with data-plane
// roles only. Deploy with `make deploy` (tools/deploy.sh); README "Deployment" says what it
// creates and how to run it.
targetScope = 'resourceGroup'

@description('Primary region (R-OPS-2: West Europe).')
@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string = 'westeurope'

@description('Cosmos DB failover region (R-OPS-2: North Europe).')
@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param secondaryLocation string = 'northeurope'

@description('Prefix of resource names.')
@minLength(3)
@maxLength(16)
param name string = 'popsell-gdpr'

@description('Prefix of links in mails (a custom domain); empty: the app\'s default host name.')
param publicBaseUrl string = ''

@description('The platform\'s default sender address (POPSELL_MAIL_FROM).')
param mailFrom string

param mailFromName string = 'Popsell'

@description('Version prefix of digests (GDPR_HASH_KEY_ID); README "Rotating the hash key".')
param hashKeyId string = 'h1'

@description('GDPR_HASH_KEYS comes from the Key Vault secret gdpr-hash-keys (the older key versions); false until a rotation writes it.')
@allowed(['true', 'false'])
param hashKeysInVault string = 'false'

@description('GDPR_HASH_KEYS_RETIRED: versions kept only inside wrapped digests; README "Rotating the hash key".')
param hashKeysRetired string = ''

@minValue(10)
@maxValue(16)
param bcryptCost int = 10

@allowed(['debug', 'info', 'warn', 'error'])
param logLevel string = 'info'

@description('Cosmos DB autoscale ceiling of the database (RU/s).')
@minValue(1000)
param cosmosMaxThroughput int = 1000

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

// Secrets: written to Key Vault only when given (first deployment, rotation); otherwise the
// vault keeps its current values. tools/deploy.sh passes them from the environment.
@secure()
param gdprHashKey string = ''
@secure()
param gdprHashKeys string = ''
@secure()
param adminToken string = ''
@secure()
param mailjetPublicKey string = ''
@secure()
param mailjetPrivateKey string = ''

param tags object = { app: 'popsell-gdpr' }
@description('Object id of the warehouse team\'s identity, which reads the warehouse container only (Storage Blob Data Reader); empty until the team has one.')
param warehouseReaderPrincipalId string = ''
@allowed(['Group', 'ServicePrincipal', 'User'])
@description('What kind of principal warehouseReaderPrincipalId is.')
param warehouseReaderPrincipalType string = 'Group'

var suffix = uniqueString(resourceGroup().id, name)
// The "Allowed locations" policy accepts exactly the regions this deployment uses: a list of
// its own could disagree with them and deny a redeploy (tools/deploy.sh refuses a pair whose
// regions are the same).
var allowedLocations = [location, secondaryLocation]
var databaseName = 'popsell-gdpr'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    name: 'id-${name}-${suffix}'
    tags: tags
  }
}

module policy 'modules/policy.bicep' = {
  name: 'policy'
  params: {
    allowedLocations: allowedLocations
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: 'log-${name}-${suffix}'
    componentName: 'appi-${name}-${suffix}'
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    name: 'st${suffix}'
    tags: tags
    principalId: identity.outputs.principalId
    warehouseReaderPrincipalId: warehouseReaderPrincipalId
    warehouseReaderPrincipalType: warehouseReaderPrincipalType
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    primaryLocation: location
    secondaryLocation: secondaryLocation
    name: 'cosmos-${name}-${suffix}'
    databaseName: databaseName
    tags: tags
    maxThroughput: cosmosMaxThroughput
    principalId: identity.outputs.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    location: location
    name: 'sb-${name}-${suffix}'
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    name: 'kv-${suffix}'
    tags: tags
    principalId: identity.outputs.principalId
    gdprHashKey: gdprHashKey
    gdprHashKeys: gdprHashKeys
    adminToken: adminToken
    mailjetPublicKey: mailjetPublicKey
    mailjetPrivateKey: mailjetPrivateKey
  }
}

// The app comes last: its settings name every other resource, so it starts only once the
// identity holds all its roles and the secrets exist.
module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    planName: 'plan-${name}-${suffix}'
    appName: 'func-${name}-${suffix}'
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    blobContainer: storage.outputs.photosContainer
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    keyVaultName: keyVault.outputs.name
    appInsightsConnectionString: monitoring.outputs.connectionString
    publicBaseUrl: publicBaseUrl
    mailFrom: mailFrom
    mailFromName: mailFromName
    hashKeyId: hashKeyId
    hashKeysInVault: hashKeysInVault == 'true' || !empty(gdprHashKeys)
    hashKeysRetired: hashKeysRetired
    bcryptCost: bcryptCost
    logLevel: logLevel
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

output functionAppName string = functionApp.outputs.name
output functionAppHostName string = functionApp.outputs.defaultHostName
output keyVaultName string = keyVault.outputs.name
output cosmosEndpoint string = cosmos.outputs.endpoint
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace

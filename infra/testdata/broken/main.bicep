// A deliberately broken copy of the templates: each resource breaks one rule of
// infra_test.go, which must report it (TestBrokenCopyFailsEachRule). Never deployed.

@allowed(['eastus', 'westeurope'])
param location string = 'eastus'

// A location parameter that takes any region.
param backupLocation string = 'westeurope'

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: 'cosmos-broken'
  location: backupLocation
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      { locationName: backupLocation, failoverPriority: 0 }
      { locationName: 'uksouth', failoverPriority: 1 }
    ]
    consistencyPolicy: { defaultConsistencyLevel: 'Sessionn' }
    disableLocalAuth: false
    minimalTlsVersion: 'Tls12'
  }
}

resource bus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: 'sb-broken'
  location: backupLocation
  sku: { name: 'Standard' }
  properties: {
    minimumTlsVersion: '1.0'
    zoneRedundantt: true
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: bus
  name: 'gdpr-erasure'
  properties: { maxDeliveryCountt: 20 }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-broken'
  location: backupLocation
  kind: 'web'
  properties: { Application_Type: 'web' }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stbroken'
  location: backupLocation
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: true
    minimumTlsVersion: 'TLS1_0'
    allowBlobPublicAccess: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource photos 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'photos'
  properties: { publicAccess: 'Blob' }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-broken'
  location: backupLocation
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: false
    accessPolicies: []
  }
}

resource readSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, 'reader')
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: '11111111-2222-3333-4444-555555555555'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-broken'
  location: backupLocation
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-broken'
  location: backupLocation
  kind: 'functionapp,linux'
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: { minTlsVersion: '1.2' }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    FUNCTIONS_WORKER_RUNTIME: 'custom'
    WEBSITE_RUN_FROM_PACKAGE: '1'
    GDPR_HASH_KEY: '6c6f63616c2d6465762d6f6e6c792d6b65792d6e6f742d666f722d70726f6421'
    AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=stbroken;AccountKey=bm90LWEta2V5'
  }
}

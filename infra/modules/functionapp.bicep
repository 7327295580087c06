// The Functions app: Flex Consumption (Linux), runtime "custom" running the Go handler from
// the package in the deployment container. Every connection uses the one user-assigned
// identity; secrets are Key Vault references. The app settings are the handler's Azure-mode
// configuration (internal/config) plus the host's identity-based connections; infra_test.go
// checks them against internal/config and local.settings.sample.json.

import { secretNames } from 'keyvault.bicep'

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string
param planName string
param appName string
param tags object

param identityId string
param identityClientId string

param storageAccountName string
param blobEndpoint string
param blobContainer string
param deploymentContainerUrl string
param serviceBusNamespace string
param cosmosEndpoint string
param cosmosDatabase string
param keyVaultName string
param appInsightsConnectionString string

@description('Prefix of links in mails; empty: https://<default host name>.')
param publicBaseUrl string
param mailFrom string
param mailFromName string
param hashKeyId string
@description('Whether Key Vault holds gdpr-hash-keys, the older key versions.')
param hashKeysInVault bool
param hashKeysRetired string
@minValue(10)
@maxValue(16)
param bcryptCost int
@allowed(['debug', 'info', 'warn', 'error'])
param logLevel string

@description('Flex Consumption: at most this many instances (40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
@allowed([512, 2048, 4096])
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'custom', version: '1.0' }
    }
  }
}

// Deployments authenticate with Entra ID only.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // The host's own connections: they never read AZURE_CLIENT_ID.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusNamespace
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

    // The handler (internal/config), Azure mode.
    AZURE_CLIENT_ID: identityClientId
    POPSELL_COSMOS_ENDPOINT: cosmosEndpoint
    POPSELL_COSMOS_DATABASE: cosmosDatabase
    POPSELL_BLOB_SERVICE_URL: blobEndpoint
    POPSELL_BLOB_CONTAINER: blobContainer
    POPSELL_PUBLIC_BASE_URL: empty(publicBaseUrl) ? 'https://${app.properties.defaultHostName}' : publicBaseUrl
    POPSELL_MAIL_FROM: mailFrom
    POPSELL_MAIL_FROM_NAME: mailFromName
    POPSELL_BCRYPT_COST: string(bcryptCost)
    POPSELL_LOG_LEVEL: logLevel
    GDPR_HASH_KEY_ID: hashKeyId
    GDPR_HASH_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.gdprHashKey})'
    // A reference to a secret the vault lacks would reach the handler as its own text.
    GDPR_HASH_KEYS: hashKeysInVault ? '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.gdprHashKeys})' : ''
    GDPR_HASH_KEYS_RETIRED: hashKeysRetired
    POPSELL_ADMIN_TOKEN: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.adminToken})'
    MJ_APIKEY_PUBLIC: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.mailjetPublicKey})'
    MJ_APIKEY_PRIVATE: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.mailjetPrivateKey})'
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName

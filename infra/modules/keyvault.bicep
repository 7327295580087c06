// Key Vault: the four secrets the handler reads through Key Vault references. RBAC only (no
// access policies); the app identity may read secrets and nothing else.
//
// A secret is written only when a value is given, so a later deployment without values
// leaves the current ones alone (tools/deploy.sh passes them only when asked to).

import { roleIds } from 'roles.bicep'

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string
param name string
param tags object
@description('The app identity, granted Key Vault Secrets User on the vault.')
param principalId string

@secure()
param gdprHashKey string
@secure()
param gdprHashKeys string
@secure()
param adminToken string
@secure()
param mailjetPublicKey string
@secure()
param mailjetPrivateKey string

// Secret names, shared with the app settings' Key Vault references (functionapp.bicep).
@export()
var secretNames = {
  gdprHashKey: 'gdpr-hash-key'
  gdprHashKeys: 'gdpr-hash-keys'
  adminToken: 'admin-token'
  mailjetPublicKey: 'mailjet-public'
  mailjetPrivateKey: 'mailjet-private'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Losing the hash key makes every stored digest unmatchable: it cannot be purged.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow' }
  }
}

resource hashKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(gdprHashKey)) {
  parent: vault
  name: secretNames.gdprHashKey
  properties: { value: gdprHashKey, contentType: 'hex or base64, 32+ random bytes' }
}

resource hashKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(gdprHashKeys)) {
  parent: vault
  name: secretNames.gdprHashKeys
  properties: { value: gdprHashKeys, contentType: 'older hash key versions, oldest first: <version>:<key>,...' }
}

resource adminTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(adminToken)) {
  parent: vault
  name: secretNames.adminToken
  properties: { value: adminToken }
}

resource mailjetPublicSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(mailjetPublicKey)) {
  parent: vault
  name: secretNames.mailjetPublicKey
  properties: { value: mailjetPublicKey }
}

resource mailjetPrivateSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(mailjetPrivateKey)) {
  parent: vault
  name: secretNames.mailjetPrivateKey
  properties: { value: mailjetPrivateKey }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name

// Storage: AzureWebJobsStorage for the host, the Flex Consumption deployment container, and
// the handler's blobs. Entra ID only (no shared keys), TLS 1.2, nothing public.

import { roleIds } from 'roles.bicep'

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string
param name string
param tags object
@description('The app identity, granted Storage Blob Data Owner and Storage Table Data Contributor on the account.')
param principalId string

@description('Blob containers: the package Flex Consumption runs from, profile photos and UGC (POPSELL_BLOB_CONTAINER), exports (data-subject and brand exports under requests/, R-ACCESS-3). The warehouse export has its own container, below.')
var containerNames = ['deployment', 'photos', 'exports']

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    allowCrossTenantReplication: false
    isLocalUserEnabled: false
    isSftpEnabled: false
    accessTier: 'Hot'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// No blob soft delete and no versioning: an erased subject's photo must be gone when the
// erasure says so (R-ERASE-3). A deleted container can still be recovered for a week.
resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: false }
    isVersioningEnabled: false
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for c in containerNames: {
    parent: blobs
    name: c
    properties: { publicAccess: 'None' }
  }
]

// The erasure ledger (R-ERASE-9): records and seals written once, outside the database, so the
// proof of every erasure survives a restore of it. The handler only creates blobs there
// (If-None-Match: *); the time-based retention policy makes each blob unchangeable and
// undeletable for ledgerRetentionDays after it is written, whoever asks. Bicep creates the
// policy unlocked (it can still be shortened or removed by an owner); lock it once checked
// (`az storage container immutability-policy lock`): a locked policy can only be lengthened,
// and the account cannot be deleted while it holds blobs under retention.
@description('Days each ledger blob stays unchangeable after it is written: six years, past the usual limitation periods for claims.')
param ledgerRetentionDays int = 2190

resource ledger 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'ledger'
  properties: { publicAccess: 'None' }
}

resource ledgerRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: ledger
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: ledgerRetentionDays
    allowProtectedAppendWrites: false
  }
}

// Data-subject and brand exports (R-ACCESS-3) live under exports/requests/ at most 48 hours:
// the handler deletes each file when its link expires, and this rule deletes whatever is
// older than two days there, a second line should the handler not have (the service runs
// rules about once a day, so a file may outlive the two days by up to a day). The app
// identity writes and deletes them through its Storage Blob Data Owner role on the account.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-subject-exports-after-2-days'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['${containerNames[2]}/requests/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: 2 } } }
          }
        }
      ]
    }
  }
  dependsOn: [containers]
}

// The warehouse export (R-DWH-1…3): each day's anonymised Parquet files, written by the app
// identity (Storage Blob Data Owner on the account) and read by the warehouse team's own
// identity, which gets Storage Blob Data Reader on this container only. No immutability:
// the export deletes the previous day once the next is complete (no history, R-DWH-3).
@description('Object id of the warehouse team\'s reader (a group or a service principal); empty: no reader yet.')
param warehouseReaderPrincipalId string = ''
@allowed(['Group', 'ServicePrincipal', 'User'])
@description('What kind of principal warehouseReaderPrincipalId is.')
param warehouseReaderPrincipalType string = 'Group'

resource warehouse 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'warehouse'
  properties: { publicAccess: 'None' }
}

resource warehouseReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(warehouseReaderPrincipalId)) {
  name: guid(warehouse.id, warehouseReaderPrincipalId, roleIds.storageBlobDataReader)
  scope: warehouse
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: warehouseReaderPrincipalId
    principalType: warehouseReaderPrincipalType
  }
}

resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, roleIds.storageBlobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, roleIds.storageTableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output photosContainer string = containerNames[1]
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${containerNames[0]}'

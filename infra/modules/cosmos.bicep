// Cosmos DB for NoSQL: West Europe writes, North Europe takes over (R-OPS-2), Entra ID only,
// Session consistency, continuous backup (R-OPS-3, see README "Deployment"). The database's
// containers are declared exactly as internal/cosmosstore/containers.go defines them: the
// handler checks them at start, and infra_test.go compares this file with that one.

import { cosmosDataContributorRoleId } from 'roles.bicep'

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param primaryLocation string
@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param secondaryLocation string
param name string
param databaseName string
param tags object
@description('Autoscale ceiling of the database, shared by its containers (RU/s, a multiple of 1000).')
@minValue(1000)
param maxThroughput int
@description('The app identity, granted Cosmos DB Built-in Data Contributor on the database.')
param principalId string

// Only the listed paths are indexed; everything else, the personal data in "doc" included,
// is excluded. Cosmos indexes id and _ts by itself.
var excludeAll = [{ path: '/*' }]
var byBrand = { path: '/brandId/?' }
var byDue = { path: '/nextReviewAt/?' }
var byMember = { path: '/memberId/?' }
// A digest of SCIM's externalId, beside the document (never the id itself): users by IdP id.
var byIdP = { path: '/idpKey/?' }
var partitionByBrand = { paths: ['/brandId'], kind: 'Hash', version: 2 }
// The sweep's ORDER BY c.nextReviewAt, c.id needs this composite index.
var dueOrder = [{ path: '/nextReviewAt', order: 'ascending' }, { path: '/id', order: 'ascending' }]

// Each entry is the container's resource body as the Cosmos REST API and azcosmos name it.
// defaultTtl -1: time-to-live on, nothing expires unless an item carries "ttl".
var containers = [
  {
    id: 'brands'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
  }
  {
    id: 'users'
    partitionKey: partitionByBrand
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [byBrand, byDue, byIdP]
      excludedPaths: excludeAll
      compositeIndexes: [dueOrder]
    }
  }
  {
    id: 'contacts'
    partitionKey: partitionByBrand
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [byBrand, byDue, byMember]
      excludedPaths: excludeAll
      compositeIndexes: [dueOrder]
    }
  }
  {
    id: 'claims'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
    defaultTtl: -1
  }
  {
    id: 'blacklist'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
  }
  {
    id: 'whitelist'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
  }
  {
    id: 'tokens'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
    defaultTtl: -1
  }
  {
    id: 'erasures'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
  }
  {
    // The register of data-subject requests: paged by id, filtered by kind or subject.
    id: 'requests'
    partitionKey: partitionByBrand
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [byBrand, { path: '/kind/?' }, { path: '/subjectId/?' }]
      excludedPaths: excludeAll
    }
  }
  {
    id: 'exports'
    partitionKey: partitionByBrand
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [byBrand, { path: '/tokenDigest/?' }, { path: '/live/?' }]
      excludedPaths: excludeAll
    }
  }
  {
    id: 'blacklistRemovals'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
  }
  {
    id: 'softBounces'
    partitionKey: partitionByBrand
    indexingPolicy: { automatic: true, indexingMode: 'consistent', includedPaths: [byBrand], excludedPaths: excludeAll }
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: primaryLocation
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      { locationName: primaryLocation, failoverPriority: 0, isZoneRedundant: false }
      { locationName: secondaryLocation, failoverPriority: 1, isZoneRedundant: false }
    ]
    enableAutomaticFailover: true
    enableMultipleWriteLocations: false
    // Session: the store carries session tokens within a process (README "Deployment").
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    // Any second of the last 30 days can be restored; the monthly part of R-OPS-3 is the
    // README's "Backups" procedure.
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: { tier: 'Continuous30Days' }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: { id: databaseName }
    options: { autoscaleSettings: { maxThroughput: maxThroughput } }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for c in containers: {
    parent: database
    name: c.id
    properties: { resource: c }
  }
]

// Data plane only: the identity cannot change the account or create containers (the handler
// checks them at start). Scoped to the account, which holds only this database: the SDK reads
// the account's metadata ("/") before anything else, which a database scope would refuse.
resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, principalId, cosmosDataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: principalId
    scope: account.id
  }
}

output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name

// Service Bus Standard: the erasure and mail queues. Entra ID only (no SAS), TLS 1.2.
// Duplicate detection can only be chosen when a queue is created, so it is set here from the
// start: a job id sent twice within the window (time since its first send) is dropped.

import { roleIds } from 'roles.bicep'

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string
param name string
param tags object
@description('The app identity: Data Owner (trigger and scale controller) and Data Sender (publishing) on each queue.')
param principalId string

// Names shared with internal/gdpr (QueueErasure, QueueMail, QueueRequests) and the function.json bindings.
var queueNames = ['gdpr-erasure', 'gdpr-mail', 'gdpr-requests']

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for q in queueNames: {
    parent: namespace
    name: q
    properties: {
      // A throttled dependency must not dead-letter a job within seconds (issue 13, fix 3).
      maxDeliveryCount: 20
      lockDuration: 'PT5M'
      // No defaultMessageTimeToLive: erasure jobs wait out a grace period of up to 90 days,
      // and a job that did expire goes to the dead-letter queue, never away.
      deadLetteringOnMessageExpiration: true
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'P1D'
      requiresSession: false
      enablePartitioning: false
      enableBatchedOperations: true
    }
  }
]

resource dataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (q, i) in queueNames: {
    name: guid(queues[i].id, principalId, roleIds.serviceBusDataOwner)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataOwner)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource dataSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (q, i) in queueNames: {
    name: guid(queues[i].id, principalId, roleIds.serviceBusDataSender)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'

// Application Insights on a Log Analytics workspace, both with local auth off: telemetry is
// accepted only from Entra ID identities (the app's, with Monitoring Metrics Publisher).
// Logs are kept one year (R-OPS-1: access logs one year); they carry no personal data.

import { roleIds } from 'roles.bicep'

@allowed(['westeurope', 'northeurope', 'swedencentral', 'germanywestcentral', 'francecentral', 'italynorth', 'polandcentral', 'spaincentral'])
param location string
param workspaceName string
param componentName string
param tags object
@description('The app identity, granted Monitoring Metrics Publisher on the component.')
param principalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 365
    features: { disableLocalAuth: true }
  }
}

resource component 'Microsoft.Insights/components@2020-02-02' = {
  name: componentName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
    // Client IPs are masked to 0.0.0.0 before they are stored (R-DATA-4).
    DisableIpMasking: false
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(component.id, principalId, roleIds.monitoringMetricsPublisher)
  scope: component
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output connectionString string = component.properties.ConnectionString

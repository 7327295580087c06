// Built-in role definition ids, in one place. Every role assignment in infra/ names one of
// these constants; infra_test.go checks each value against the ids Azure publishes (public
// repositories carry corrupted copies of some of them).

@export()
@description('Azure RBAC built-in data-plane roles granted to the app identity (least privilege: no Owner or Contributor).')
var roleIds = {
  // AzureWebJobsStorage on Flex Consumption (host leases, timers, its own containers) and
  // the handler's photos and exports.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // The warehouse team's identity reads the warehouse container, and nothing else (R-DWH-1).
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  // The host writes its diagnostic events to tables in AzureWebJobsStorage; without this
  // role it logs a warning and drops them (as the Flex managed-identity quickstart grants).
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // The Service Bus trigger: Receiver alone makes the scale controller fall back to
  // peek-based scaling; Owner lets it read the queue's runtime counts.
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  // The handler's own publishing (implied by Owner today; kept explicit should Owner go).
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  // Key Vault references in app settings.
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  // Application Insights with local auth off: the host sends telemetry with Entra ID.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

@export()
@description('Cosmos DB built-in data-plane role (not Azure RBAC): Cosmos DB Built-in Data Contributor.')
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

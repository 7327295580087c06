// A deliberately broken template: two properties on one line with no comma between them, and
// no closing braces. The syntax rule must report it.
param name string = 'popsell'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name location: 'westeurope'
  tags: { app: 'popsell'

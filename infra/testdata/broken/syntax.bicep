// A deliberately broken template: the object below misses a comma-free line break and its
// closing brace, which the syntax rule must report.
param name string = 'popsell'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name location: 'westeurope'
  tags: { app: 'popsell'

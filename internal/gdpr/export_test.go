package gdpr

// ClaimLease is exported to the tests, which move their clock past it.
const ClaimLease = claimLease

package gdpr

import "reflect"

// The data map: every field the service stores, per subject kind, with its data category, what
// erasure does to it per role, whether a subject access export carries it (R-RIGHTS-1), what
// the warehouse export does with it (R-DWH-1, R-DWH-2), the rule that ends its life and its
// purpose. It is data, not documentation: datamap_test.go holds it against the stored Go types
// (every field classified, no field invented) and against the erasure functions field by
// field, and the Fides dataset and the record of processing activities in docs/ are generated
// from it (go generate ./...).

// FieldAction is what an erasure does to a stored field.
type FieldAction string

const (
	// FieldKeep leaves the value as it is.
	FieldKeep FieldAction = "keep"
	// FieldErase empties the value.
	FieldErase FieldAction = "erase"
	// FieldHash replaces the value by its keyed digest "h1:…" (R-ERASE-4).
	FieldHash FieldAction = "hash"
	// FieldDelete deletes the blob the field names and empties the field.
	FieldDelete FieldAction = "delete"
	// FieldYearOnly erases the day and month of a date and keeps its year (R-ERASE-1).
	FieldYearOnly FieldAction = "year_only"
	// FieldDeleteUnlessContest deletes a piece of content and its blob unless it was collected
	// under a contest, which keeps it until the contest's keep-until date (R-ERASE-2).
	FieldDeleteUnlessContest FieldAction = "delete_unless_contest"
	// FieldMark is the erasure's record of itself on the subject: the status it sets, the
	// erasure's own state, when and by which erasure a contact went. Never personal data.
	FieldMark FieldAction = "mark"
)

// WarehouseAction is what the daily warehouse export does with a field (R-DWH-1, R-DWH-2).
type WarehouseAction string

const (
	WarehouseOmit WarehouseAction = "omit" // never exported
	WarehouseKeep WarehouseAction = "keep" // exported as stored
	// WarehouseAnonymise exports a value that no longer identifies the person: an id as a
	// keyed digest (so rows still join), a date of birth as its year.
	WarehouseAnonymise WarehouseAction = "anonymise"
)

// Purpose is why a field is held (GDPR Art. 5(1)(b), Art. 30(1)(b)).
type Purpose string

const (
	PurposeAccount        Purpose = "account"        // the person's account and access to the programme
	PurposeProgramme      Purpose = "programme"      // taking part in the programme: profile, community, content
	PurposeCommunication  Purpose = "communication"  // mail to the person, with the consent it needs
	PurposeCRM            Purpose = "crm"            // the member's CRM: its contacts, their traffic and purchases
	PurposeConsentProof   Purpose = "consent_proof"  // proof of what the person agreed to, and when (Art. 7)
	PurposeDeliverability Purpose = "deliverability" // never mailing an address that bounced or complained
	PurposeRetention      Purpose = "retention"      // applying the retention schedule and the erasures
	PurposeErasureProof   Purpose = "erasure_proof"  // proving that erasures were done (R-ERASE-9)
	PurposeUniqueness     Purpose = "uniqueness"     // one account per address or external id, replay guards
	PurposeSecurity       Purpose = "security"       // authenticating people and systems
	PurposeTenancy        Purpose = "tenancy"        // keeping each brand's data apart (R-TEN-1)
	PurposeSettings       Purpose = "settings"       // a brand's configuration of the service
	PurposeRights         Purpose = "rights"         // answering data-subject requests, and the register of them
)

// Purposes describes each purpose once, for the record of processing activities.
var Purposes = []struct {
	Purpose     Purpose `json:"purpose"`
	Description string  `json:"description"`
}{
	{PurposeAccount, "Run the person's account on the brand's programme: sign-up, double opt-in, T&C acceptance, sign-in, provisioning by the brand's identity system (R-SIGNUP-1…8, R-SSO-1…3)."},
	{PurposeProgramme, "Let members take part in the programme: their profile, the community, the content they create (R-DATA-1, R-DATA-2)."},
	{PurposeCommunication, "Mail the person: confirmations, warnings, notifications and invitations, within the consent given (R-SIGNUP-7, R-CONSENT-6)."},
	{PurposeCRM, "Give each member a CRM of their own contacts, with their traffic and purchases (R-CONSENT-3…5, R-CONSENT-8, R-ACCESS-1, R-ACCESS-2)."},
	{PurposeConsentProof, "Prove what each person agreed to and when (GDPR Art. 7; R-CONSENT-1, R-CONSENT-2, R-SIGNUP-1)."},
	{PurposeDeliverability, "Never mail an address that bounced, complained or opted out of every member (R-MAIL-1…4)."},
	{PurposeRetention, "Apply the retention schedule and erase on time (R-RET-1…9, R-ERASE-5…8, R-TEN-2)."},
	{PurposeErasureProof, "Prove each erasure without keeping what was erased (R-ERASE-9)."},
	{PurposeUniqueness, "Keep one account per address and external id per brand, and accept each webhook once."},
	{PurposeSecurity, "Authenticate people and systems: passwords, single-use links, brand credentials (R-SIGNUP-2, R-SIGNUP-3, R-SSO-3)."},
	{PurposeTenancy, "Keep each brand's data apart (R-TEN-1)."},
	{PurposeSettings, "Hold each brand's configuration of the service."},
	{PurposeRights, "Answer data-subject requests (GDPR Art. 15–22) and authorised brand exports, and keep their register (R-RIGHTS-1, R-ACCESS-3)."},
}

// FieldErasure is what erasure does to a field, per group of roles. OnDeletion is the erasure
// of a deleted or inactive subject: Ambassadors (role 0) in the member table, roles 7 and 8
// in the external one, and contacts. UnderContract is the same erasure for members under
// contract with the brand, roles 1 to 6, whose names stay while the brand's platform is
// active (R-ROLE, R-ERASE-1). AtContractEnd is the erasure at the end of the brand's contract
// (R-ERASE-7), whatever the role.
type FieldErasure struct {
	OnDeletion    FieldAction `json:"onDeletion"`
	UnderContract FieldAction `json:"underContract,omitempty"`
	AtContractEnd FieldAction `json:"atContractEnd"`
}

// FieldClass classifies one stored field.
type FieldClass struct {
	// Path is the field's JSON path as stored: "email", "address.city", "ugc[].key". A path
	// may name an object, which then classifies everything inside it.
	Path string `json:"path"`
	// Category is the field's data category in the fideslang taxonomy that Ethyca Fides
	// publishes (its default data categories, version 3.x, none deprecated).
	Category string       `json:"category"`
	Erasure  FieldErasure `json:"erasure"`
	// Export says whether a subject access export (R-RIGHTS-1) carries the field.
	Export    bool            `json:"export"`
	Warehouse WarehouseAction `json:"warehouse"`
	// Retention is the rule that ends the value's life: the erasure of its subject under
	// that rule, or the rule under which it outlives the erasure (R-DATA-5: kept with the
	// soft-deleted record; R-ERASE-7: kept until the brand's contract ends).
	Retention string  `json:"retention"`
	Purpose   Purpose `json:"purpose"`
}

// DataTable classifies the stored fields of one subject kind or one derived table.
type DataTable struct {
	// Kind is the subject kind (member, external, contact) or the name of a table that holds
	// no subject of its own (tokens, claims, blacklist, whitelist, erasures, brands).
	Kind string `json:"kind"`
	// Subject says whether each document is a data subject's own record.
	Subject     bool   `json:"subject"`
	Collection  string `json:"collection"`
	Description string `json:"description"`
	// ErasedUnder lists the rules that erase a subject of this kind.
	ErasedUnder []string     `json:"erasedUnder,omitempty"`
	Fields      []FieldClass `json:"fields"`
	// Type is the stored Go type, which the reflection test walks.
	Type reflect.Type `json:"-"`
}

// DataMapCategories lists every data category the map uses, each a key of fideslang's
// default taxonomy (src/fideslang/default_taxonomy/data_categories.py, version 3.x) that is
// not deprecated there; a test keeps the map within it.
var DataMapCategories = map[string]string{
	"system.operations":                       "Operations Data",
	"system.authentication":                   "Authentication Data",
	"user.account":                            "Account Information",
	"user.account.username":                   "Account Username",
	"user.authorization.credentials":          "Account password",
	"user.behavior":                           "Observed Behavior",
	"user.behavior.purchase_history":          "Purchase History",
	"user.contact":                            "Contact Data",
	"user.contact.email":                      "User Contact Email",
	"user.contact.phone_number":               "User Contact Phone Number",
	"user.contact.address.street":             "User Contact Street",
	"user.contact.address.city":               "User Contact City",
	"user.contact.address.postal_code":        "User Contact Postal Code",
	"user.contact.address.country":            "User Contact Country",
	"user.content.private":                    "Private Content",
	"user.content.public":                     "Public Content",
	"user.content.self_image":                 "User Image",
	"user.demographic.date_of_birth":          "Birth Date",
	"user.demographic.language":               "Language",
	"user.name":                               "Name",
	"user.name.first":                         "First Name",
	"user.name.last":                          "Last Name",
	"user.privacy_preferences":                "Privacy Preferences",
	"user.professional_information.job_title": "Professional Job Title",
	"user.unique_id":                          "Unique ID",
	"user.unique_id.deterministic":            "Deterministic User ID",
}

// DataMap returns the data map: the three subject kinds, then the derived tables.
func DataMap() []DataTable {
	return []DataTable{
		userTable(SubjectMember),
		userTable(SubjectExternal),
		contactTable(),
		tokenTable(),
		claimTable(),
		blacklistTable(),
		blacklistRemovalTable(),
		softBounceTable(),
		whitelistTable(),
		erasureTable(),
		requestTable(),
		exportTable(),
		brandTable(),
	}
}

// same is an erasure that does one thing whatever the role.
func same(a FieldAction) FieldErasure { return FieldErasure{OnDeletion: a, AtContractEnd: a} }

// userTable classifies gdpr.User for members or external users. What erasure does is
// EraseUser's and EraseUserAtContractEnd's (policy.go); the test proves it field by field.
func userTable(kind SubjectKind) DataTable {
	member := kind == SubjectMember
	t := DataTable{
		Kind: string(kind), Subject: true, Collection: "users", Type: reflect.TypeFor[User](),
	}
	// Fields erased with their subject live until its erasure under the inactivity rule
	// (or an earlier deletion, R-ERASE-5); those kept live with the soft-deleted record.
	inactivity := RuleMemberInactivity
	names := FieldErasure{OnDeletion: FieldErase, UnderContract: FieldKeep, AtContractEnd: FieldErase}
	alias := FieldErasure{OnDeletion: FieldKeep, UnderContract: FieldKeep, AtContractEnd: FieldErase}
	namesWarehouse := WarehouseKeep // R-DWH-1: members' names and alias, for the dashboards' KPIs
	if member {
		t.Description = "Members (roles 0 to 6): the people with access to the brand's programme (R-DATA-1)."
		t.ErasedUnder = []string{RuleMemberInactivity, RuleGracePeriod, RuleBrandContractEnd, RuleUnconfirmedSignup}
	} else {
		t.Description = "External users (roles 7 and 8): widget visitors, clients and temporary accounts (R-DATA-2)."
		t.ErasedUnder = []string{RuleExternalInactive, RuleGracePeriod, RuleBrandContractEnd}
		inactivity = RuleExternalInactive
		names = FieldErasure{OnDeletion: FieldErase, AtContractEnd: FieldErase}
		alias = FieldErasure{OnDeletion: FieldKeep, AtContractEnd: FieldErase}
		namesWarehouse = WarehouseOmit
	}
	every := func(a FieldAction) FieldErasure {
		if member {
			return FieldErasure{OnDeletion: a, UnderContract: a, AtContractEnd: a}
		}
		return same(a)
	}
	f := func(path, category string, e FieldErasure, export bool, wh WarehouseAction, retention string, p Purpose) {
		t.Fields = append(t.Fields, FieldClass{path, category, e, export, wh, retention, p})
	}
	keep, erase, hash, mark := every(FieldKeep), every(FieldErase), every(FieldHash), every(FieldMark)
	const kept = "R-DATA-5"
	f("brandId", "system.operations", keep, false, WarehouseKeep, kept, PurposeTenancy)
	f("id", "user.unique_id", keep, true, WarehouseAnonymise, kept, PurposeAccount)
	f("role", "user.account", keep, true, WarehouseKeep, kept, PurposeAccount)
	f("status", "system.operations", mark, true, WarehouseKeep, kept, PurposeRetention)
	f("kind", "system.operations", keep, false, WarehouseKeep, kept, PurposeAccount)
	f("createdAt", "user.account", keep, true, WarehouseKeep, kept, PurposeAccount)
	f("confirmedAt", "user.account", keep, true, WarehouseKeep, kept, PurposeAccount)
	f("alias", "user.account.username", alias, true, namesWarehouse, RuleBrandContractEnd, PurposeProgramme)
	f("firstName", "user.name.first", names, true, namesWarehouse, namesRetention(member, inactivity), PurposeProgramme)
	f("lastName", "user.name.last", names, true, namesWarehouse, namesRetention(member, inactivity), PurposeProgramme)
	f("title", "user.name", names, true, WarehouseOmit, namesRetention(member, inactivity), PurposeProgramme)
	f("displayName", "user.name", names, true, WarehouseOmit, namesRetention(member, inactivity), PurposeAccount)
	f("formattedName", "user.name", names, true, WarehouseOmit, namesRetention(member, inactivity), PurposeAccount)
	f("userName", "user.account.username", erase, true, WarehouseOmit, inactivity, PurposeAccount)
	f("passwordHash", "user.authorization.credentials", erase, false, WarehouseOmit, inactivity, PurposeSecurity)
	f("customerId", "user.unique_id", hash, true, WarehouseOmit, inactivity, PurposeAccount)
	f("socialId", "user.unique_id", hash, true, WarehouseOmit, inactivity, PurposeAccount)
	f("externalId", "user.unique_id", hash, true, WarehouseOmit, inactivity, PurposeAccount)
	f("idpExternalId", "user.unique_id", hash, true, WarehouseOmit, inactivity, PurposeAccount)
	f("email", "user.contact.email", hash, true, WarehouseOmit, inactivity, PurposeCommunication)
	f("emailTmp", "user.contact.email", hash, true, WarehouseOmit, inactivity, PurposeCommunication)
	f("address.street", "user.contact.address.street", erase, true, WarehouseOmit, inactivity, PurposeProgramme)
	f("address.city", "user.contact.address.city", keep, true, WarehouseKeep, kept, PurposeProgramme)
	f("address.postalCode", "user.contact.address.postal_code", keep, true, WarehouseKeep, kept, PurposeProgramme)
	f("address.country", "user.contact.address.country", erase, true, WarehouseKeep, inactivity, PurposeProgramme)
	f("language", "user.demographic.language", keep, true, WarehouseKeep, kept, PurposeCommunication)
	f("dateOfBirth", "user.demographic.date_of_birth", every(FieldYearOnly), true, WarehouseAnonymise, inactivity, PurposeProgramme)
	f("terms.version", "user.privacy_preferences", keep, true, WarehouseOmit, kept, PurposeConsentProof)
	f("terms.acceptedAt", "user.privacy_preferences", keep, true, WarehouseOmit, kept, PurposeConsentProof)
	f("photoKey", "user.content.self_image", every(FieldDelete), true, WarehouseOmit, inactivity, PurposeProgramme)
	ugc := every(FieldDeleteUnlessContest)
	f("ugc[].key", "user.content.public", ugc, true, WarehouseOmit, RuleContestUGC, PurposeProgramme)
	f("ugc[].contestId", "system.operations", ugc, true, WarehouseOmit, RuleContestUGC, PurposeProgramme)
	f("ugc[].keepUntil", "system.operations", ugc, true, WarehouseOmit, RuleContestUGC, PurposeRetention)
	f("description", "user.content.public", erase, true, WarehouseOmit, inactivity, PurposeProgramme)
	f("phone", "user.contact.phone_number", erase, true, WarehouseOmit, inactivity, PurposeCommunication)
	f("position", "user.professional_information.job_title", names, true, WarehouseOmit, namesRetention(member, inactivity), PurposeProgramme)
	for _, p := range []string{"visibility.hideEvents", "visibility.hideFromCommunity",
		"optIns.newsletter", "optIns.events", "optIns.challenges", "optIns.comments",
		"optIns.newsletterAt", "optIns.eventsAt", "optIns.challengesAt", "optIns.commentsAt"} {
		f(p, "user.privacy_preferences", erase, true, WarehouseKeep, inactivity, PurposeConsentProof)
	}
	f("emailStatus", "user.contact", keep, true, WarehouseKeep, kept, PurposeDeliverability)
	f("emailStatusAt", "user.contact", keep, true, WarehouseOmit, kept, PurposeDeliverability)
	f("lastLoginAt", "user.behavior", erase, true, WarehouseKeep, inactivity, PurposeRetention)
	f("lastActivityAt", "user.behavior", erase, true, WarehouseKeep, inactivity, PurposeRetention)
	f("ssoEventAt", "system.operations", keep, false, WarehouseOmit, kept, PurposeAccount)
	f("block", "system.operations", erase, true, WarehouseOmit, RuleGracePeriod, PurposeRetention)
	f("warnings", "system.operations", erase, false, WarehouseOmit, inactivity, PurposeRetention)
	f("erasure", "system.operations", mark, false, WarehouseOmit, kept, PurposeErasureProof)
	f("nextReviewAt", "system.operations", mark, false, WarehouseOmit, kept, PurposeRetention)
	// A restriction or objection (Art. 18, 21) is kept with the soft-deleted record: the
	// register says which request set it, and nothing is mailed after the erasure anyway.
	f("restriction", "user.privacy_preferences", keep, true, WarehouseOmit, kept, PurposeRights)
	return t
}

// namesRetention: a member's names go at its erasure only for roles 0, 7 and 8; for roles 1
// to 6 they stay until the end of the brand's contract (R-ERASE-1, R-ERASE-7).
func namesRetention(member bool, inactivity string) string {
	if member {
		return RuleBrandContractEnd
	}
	return inactivity
}

// contactTable classifies gdpr.Contact; what erasure does is EraseContact's, whichever rule
// erases the contact.
func contactTable() DataTable {
	t := DataTable{
		Kind: string(SubjectContact), Subject: true, Collection: "contacts", Type: reflect.TypeFor[Contact](),
		Description: "Contacts: people in a member's CRM, stored once per member (R-CONSENT-5); not users.",
		ErasedUnder: []string{RuleContactInactivity, RuleNewContact, RuleInvitationPending, RulePendingConfirmation,
			RuleOptedOutContact, RuleSyncDelete, "R-ERASE-6", RuleBrandContractEnd},
	}
	keep, erase := same(FieldKeep), same(FieldErase)
	const kept, erased = "R-DATA-5", RuleContactInactivity
	f := func(path, category string, e FieldErasure, export bool, wh WarehouseAction, retention string, p Purpose) {
		t.Fields = append(t.Fields, FieldClass{path, category, e, export, wh, retention, p})
	}
	f("brandId", "system.operations", keep, false, WarehouseKeep, kept, PurposeTenancy)
	f("id", "user.unique_id", keep, true, WarehouseAnonymise, kept, PurposeCRM)
	f("memberId", "user.unique_id", keep, true, WarehouseAnonymise, kept, PurposeCRM)
	f("email", "user.contact.email", same(FieldHash), true, WarehouseOmit, erased, PurposeCommunication)
	f("emailStatus", "user.contact", keep, true, WarehouseKeep, kept, PurposeDeliverability)
	f("firstName", "user.name.first", erase, true, WarehouseOmit, erased, PurposeCRM)
	f("lastName", "user.name.last", erase, true, WarehouseOmit, erased, PurposeCRM)
	f("phone", "user.contact.phone_number", erase, true, WarehouseOmit, erased, PurposeCRM)
	f("notes", "user.content.private", erase, true, WarehouseOmit, erased, PurposeCRM)
	f("tags", "user.content.private", erase, true, WarehouseOmit, erased, PurposeCRM)
	f("address.street", "user.contact.address.street", erase, true, WarehouseOmit, erased, PurposeCRM)
	f("address.city", "user.contact.address.city", keep, true, WarehouseKeep, kept, PurposeCRM)
	f("address.postalCode", "user.contact.address.postal_code", keep, true, WarehouseKeep, kept, PurposeCRM)
	f("address.country", "user.contact.address.country", erase, true, WarehouseKeep, erased, PurposeCRM)
	for _, p := range []string{"memberOptIn.value", "memberOptIn.at", "brandOptIn.value", "brandOptIn.at"} {
		f(p, "user.privacy_preferences", keep, true, WarehouseKeep, kept, PurposeConsentProof)
	}
	f("source", "system.operations", keep, true, WarehouseKeep, kept, PurposeCRM)
	// The consent history goes to the warehouse as its consent events (R-DWH-1): values, times
	// and the kind of source; a source's ref names an order or a batch of the brand's own
	// systems, an external identifier, and stays out (R-DWH-2).
	for _, p := range []string{"consentHistory[].kind", "consentHistory[].from", "consentHistory[].to",
		"consentHistory[].at", "consentHistory[].source.kind"} {
		f(p, "user.privacy_preferences", keep, true, WarehouseKeep, kept, PurposeConsentProof)
	}
	f("consentHistory[].source.ref", "user.privacy_preferences", keep, true, WarehouseOmit, kept, PurposeConsentProof)
	f("sales[].orderId", "user.behavior.purchase_history", keep, true, WarehouseOmit, kept, PurposeCRM)
	for _, p := range []string{"sales[].amount", "sales[].currency", "sales[].products[].sku",
		"sales[].products[].quantity", "sales[].at"} {
		f(p, "user.behavior.purchase_history", keep, true, WarehouseKeep, kept, PurposeCRM)
	}
	f("createdAt", "user.account", keep, true, WarehouseKeep, kept, PurposeCRM)
	f("lastActivityAt", "user.behavior", keep, true, WarehouseKeep, kept, PurposeRetention)
	f("invitationSentAt", "user.behavior", keep, true, WarehouseKeep, kept, PurposeRetention)
	f("erasedAt", "system.operations", same(FieldMark), false, WarehouseKeep, kept, PurposeErasureProof)
	f("erasedBy", "system.operations", same(FieldMark), false, WarehouseOmit, kept, PurposeErasureProof)
	f("erasure", "system.operations", same(FieldMark), false, WarehouseOmit, kept, PurposeErasureProof)
	f("nextReviewAt", "system.operations", erase, false, WarehouseOmit, kept, PurposeRetention)
	return t
}

// derived builds a table of documents that are no subject's own record. Erasing a subject
// leaves them as they are unless a field says otherwise; none goes to the warehouse.
func derived(kind, collection, description string, typ reflect.Type, fields ...FieldClass) DataTable {
	for i := range fields {
		if fields[i].Erasure == (FieldErasure{}) {
			fields[i].Erasure = same(FieldKeep)
		}
		fields[i].Warehouse = WarehouseOmit
	}
	return DataTable{Kind: kind, Collection: collection, Description: description, Fields: fields, Type: typ}
}

func tokenTable() DataTable {
	const r = "R-SIGNUP-2"
	return derived("tokens", "tokens",
		"Single-use links (signup confirmation, invitation, unsubscribe, program opt-out), stored as digests; they expire.",
		reflect.TypeFor[Token](),
		FieldClass{Path: "brandId", Category: "system.operations", Retention: r, Purpose: PurposeTenancy},
		FieldClass{Path: "digest", Category: "system.authentication", Retention: r, Purpose: PurposeSecurity},
		FieldClass{Path: "purpose", Category: "system.operations", Retention: r, Purpose: PurposeSecurity},
		FieldClass{Path: "userId", Category: "user.unique_id", Retention: r, Purpose: PurposeSecurity},
		FieldClass{Path: "createdAt", Category: "system.operations", Retention: r, Purpose: PurposeSecurity},
		FieldClass{Path: "expiresAt", Category: "system.operations", Retention: r, Purpose: PurposeSecurity},
		FieldClass{Path: "usedAt", Category: "system.operations", Retention: r, Purpose: PurposeSecurity},
	)
}

func claimTable() DataTable {
	// A subject's claims are released (the documents deleted) once it is erased.
	released := same(FieldDelete)
	const r = "R-TEN-2"
	return derived("claims", "claims",
		"Unique keys per brand: the digest of an address or external id naming its owner, webhook ids seen, send locks.",
		reflect.TypeFor[Claim](),
		FieldClass{Path: "brandId", Category: "system.operations", Erasure: released, Retention: r, Purpose: PurposeTenancy},
		FieldClass{Path: "key", Category: "user.unique_id.deterministic", Erasure: released, Retention: r, Purpose: PurposeUniqueness},
		FieldClass{Path: "owner", Category: "user.unique_id", Erasure: released, Retention: r, Purpose: PurposeUniqueness},
		FieldClass{Path: "createdAt", Category: "system.operations", Erasure: released, Retention: r, Purpose: PurposeUniqueness},
		FieldClass{Path: "expiresAt", Category: "system.operations", Erasure: released, Retention: r, Purpose: PurposeUniqueness},
	)
}

func blacklistTable() DataTable {
	const r = "R-MAIL-4" // the digest stays after the erasure (R-RET-7), to keep blocking
	return derived("blacklist", "blacklist",
		"Addresses never to be mailed again, as keyed digests (R-MAIL-1, R-MAIL-4).",
		reflect.TypeFor[BlacklistEntry](),
		FieldClass{Path: "brandId", Category: "system.operations", Retention: r, Purpose: PurposeTenancy},
		FieldClass{Path: "digest", Category: "user.unique_id.deterministic", Retention: r, Purpose: PurposeDeliverability},
		FieldClass{Path: "reason", Category: "user.privacy_preferences", Retention: r, Purpose: PurposeDeliverability},
		// The provider's event id, or the prefix of the answered link's digest: ids, never the
		// address.
		FieldClass{Path: "source", Category: "system.operations", Retention: r, Purpose: PurposeDeliverability},
		FieldClass{Path: "createdAt", Category: "system.operations", Retention: r, Purpose: PurposeDeliverability},
		FieldClass{Path: "lastAt", Category: "system.operations", Retention: r, Purpose: PurposeDeliverability},
	)
}

func blacklistRemovalTable() DataTable {
	const r = "R-MAIL-1"
	var fields []FieldClass
	for _, p := range []string{"brandId", "id", "reason", "source", "since", "basis", "why", "removedAt"} {
		fields = append(fields, FieldClass{Path: p, Category: "system.operations", Retention: r, Purpose: PurposeDeliverability})
	}
	// Who asked: an operator id or a ticket (never an address, refused on input), or the id
	// of the member whose confirmed opt-in lifted the entry.
	fields = append(fields, FieldClass{Path: "requestedBy", Category: "user.unique_id", Retention: r, Purpose: PurposeDeliverability})
	return derived("blacklist_removals", "blacklistRemovals",
		"The audit trail of blacklist entries removed: what the entry said, on what basis, why and at whose request; no address, not even as a digest.",
		reflect.TypeFor[BlacklistRemoval](), fields...)
}

func softBounceTable() DataTable {
	const r = "R-MAIL-2" // a delivery or the member's release starts the count again
	return derived("soft_bounces", "softBounces",
		"The brand's soft-bounce policy's count per address, as a keyed digest: the latest soft bounces in a row by the provider's event ids.",
		reflect.TypeFor[SoftBounceStreak](),
		FieldClass{Path: "brandId", Category: "system.operations", Retention: r, Purpose: PurposeTenancy},
		FieldClass{Path: "digest", Category: "user.unique_id.deterministic", Retention: r, Purpose: PurposeDeliverability},
		FieldClass{Path: "bounces", Category: "system.operations", Retention: r, Purpose: PurposeDeliverability},
		FieldClass{Path: "clearedAt", Category: "system.operations", Retention: r, Purpose: PurposeDeliverability},
	)
}

func whitelistTable() DataTable {
	const r = "R-SIGNUP-4"
	return derived("whitelist", "whitelist",
		"Who may sign up on a restricted brand, as keyed digests of addresses and customer ids (R-SIGNUP-4, R-SIGNUP-8).",
		reflect.TypeFor[WhitelistEntry](),
		FieldClass{Path: "brandId", Category: "system.operations", Retention: r, Purpose: PurposeTenancy},
		FieldClass{Path: "kind", Category: "system.operations", Retention: r, Purpose: PurposeAccount},
		FieldClass{Path: "digest", Category: "user.unique_id.deterministic", Retention: r, Purpose: PurposeAccount},
		FieldClass{Path: "role", Category: "user.account", Retention: r, Purpose: PurposeAccount},
		FieldClass{Path: "createdAt", Category: "system.operations", Retention: r, Purpose: PurposeAccount},
	)
}

func erasureTable() DataTable {
	const r = "R-ERASE-9"
	var fields []FieldClass
	for _, p := range []string{"brandId", "id", "subjectId", "subjectKind", "role", "rule", "reason", "requestedAt",
		"dueAt", "doneAt", "fieldsErased", "fieldsHashed", "blobsDeleted", "contactsErased", "contactsKept"} {
		// The subject's own export carries its erasure records (R-RIGHTS-1): ids, rules,
		// times and field names, no personal data.
		c := FieldClass{Path: p, Category: "system.operations", Export: p != "brandId", Retention: r, Purpose: PurposeErasureProof}
		if p == "subjectId" {
			c.Category = "user.unique_id"
		}
		fields = append(fields, c)
	}
	return derived("erasures", "erasures",
		"The audit trail: one record per erasure, field names and counts, no personal data (R-ERASE-9).",
		reflect.TypeFor[ErasureRecord](), fields...)
}

// requestTable classifies the register of data-subject requests. It outlives the subject's
// erasure (R-RIGHTS-1): the subject is named by id only, a rectification keeps the names of
// the fields it changed, never their values.
func requestTable() DataTable {
	const r = "R-RIGHTS-1"
	var fields []FieldClass
	for _, p := range []string{"brandId", "id", "kind", "subjectId", "reference", "justification", "requestedBy",
		"status", "refusedReason", "receivedAt", "dueAt", "completedAt", "approvals[].approver", "approvals[].role",
		"approvals[].at", "fieldsChanged", "liftedAt", "download.url", "download.expiresAt"} {
		c := FieldClass{Path: p, Category: "system.operations", Retention: r, Purpose: PurposeRights}
		switch p {
		case "subjectId":
			c.Category = "user.unique_id"
		case "requestedBy", "approvals[].approver":
			// The staff who asked or approved, as the admin names them: the register's proof
			// of who authorised what (R-ACCESS-3); never the subject.
			c.Category = "user.account.username"
		case "download.url":
			c.Category = "system.authentication"
		}
		fields = append(fields, c)
	}
	return derived("requests", "requests",
		"The register of data-subject requests and authorised brand exports: who asked, what, approvals, status and times; no personal data of the subject beyond its id (R-RIGHTS-1, R-ACCESS-3).",
		reflect.TypeFor[Request](), fields...)
}

func exportTable() DataTable {
	const r = "R-ACCESS-3"
	var fields []FieldClass
	for _, p := range []string{"brandId", "requestId", "scope", "subjectId", "exportId", "blobKey", "tokenDigest", "status",
		"createdAt", "readyAt", "expiresAt", "downloads", "deletedAt", "deletedBecause"} {
		c := FieldClass{Path: p, Category: "system.operations", Retention: r, Purpose: PurposeRights}
		switch p {
		case "subjectId":
			c.Category = "user.unique_id"
		case "tokenDigest":
			c.Category, c.Purpose = "system.authentication", PurposeSecurity
		}
		fields = append(fields, c)
	}
	return derived("exports", "exports",
		"Export records: where each export's file is, its link's token as a keyed digest, until when and how often it may be downloaded; ids and times, no personal data (R-ACCESS-3).",
		reflect.TypeFor[ExportRecord](), fields...)
}

func brandTable() DataTable {
	const r = "R-TEN-1"
	var fields []FieldClass
	for _, p := range []string{"id", "name", "pro", "ssoExclusive", "whitelistEnabled", "sweepCursor", "retention",
		"fields", "status", "contractEnd", "suspension", "createdAt", "updatedAt", "contacts", "mail.templates",
		"mail.templatesByLanguage", "identity.logoUrl", "identity.primaryColor", "identity.siteUrl", "identity.privacyUrl",
		"identity.signInUrl", "identity.postalAddress", "defaultLanguage", "timeZone", "mail.softBounces"} {
		fields = append(fields, FieldClass{Path: p, Category: "system.operations", Retention: r, Purpose: PurposeSettings})
	}
	for _, p := range []string{"webhookSecret", "previousWebhookSecret", "mailjetCallback.username",
		"mailjetCallback.passwordDigest", "scimTokenDigest"} {
		fields = append(fields, FieldClass{Path: p, Category: "system.authentication", Retention: r, Purpose: PurposeSecurity})
	}
	// The brand's sender: a mailbox and display name of the brand's choosing, which may name
	// one of its staff.
	fields = append(fields,
		FieldClass{Path: "mail.from.email", Category: "user.contact.email", Retention: r, Purpose: PurposeSettings},
		FieldClass{Path: "mail.from.name", Category: "user.name", Retention: r, Purpose: PurposeSettings})
	return derived("brands", "brands", "Each brand's settings; no data subject's record.",
		reflect.TypeFor[Brand](), fields...)
}

// ActionCounts counts a table's fields per erasure action, per column of FieldErasure.
type ActionCounts struct {
	OnDeletion, UnderContract, AtContractEnd map[FieldAction]int
}

// CountActions counts t's fields per action: the data map's figures.
func CountActions(t DataTable) ActionCounts {
	c := ActionCounts{map[FieldAction]int{}, map[FieldAction]int{}, map[FieldAction]int{}}
	for _, f := range t.Fields {
		c.OnDeletion[f.Erasure.OnDeletion]++
		if f.Erasure.UnderContract != "" {
			c.UnderContract[f.Erasure.UnderContract]++
		}
		c.AtContractEnd[f.Erasure.AtContractEnd]++
	}
	return c
}

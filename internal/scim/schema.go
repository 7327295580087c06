package scim

import "strings"

// Schema and message URNs (RFC 7643 §8.7.1, §4.3, §5, §6; RFC 7644 §3.4.2, §3.4.3, §3.5.2,
// §3.12).
const (
	URNUser                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNEnterpriseUser        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URNSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	URNListResponse          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNSearchRequest         = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	URNPatchOp               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNError                 = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// attrType is an attribute's data type (RFC 7643 §2.3).
type attrType uint8

const (
	typeString attrType = iota + 1
	typeBoolean
	typeDateTime
	typeReference
	typeComplex
)

func (t attrType) String() string {
	switch t {
	case typeString:
		return "string"
	case typeBoolean:
		return "boolean"
	case typeDateTime:
		return "dateTime"
	case typeReference:
		return "reference"
	case typeComplex:
		return "complex"
	}
	return ""
}

// attrID names the attributes this service keeps, so the code switches on a constant rather
// than on a name. Attributes that are part of a known schema but not kept have attrNone.
type attrID uint8

const (
	attrNone attrID = iota
	attrSchemas
	attrIDAttr
	attrExternalID
	attrMeta
	attrMetaResourceType
	attrMetaCreated
	attrMetaLastModified
	attrMetaLocation
	attrMetaVersion
	attrUserName
	attrName
	attrNameFormatted
	attrNameFamily
	attrNameGiven
	attrDisplayName
	attrNickName
	attrTitle
	attrPreferredLanguage
	attrActive
	attrEmails
	attrEmailValue
	attrEmailType
	attrEmailPrimary
	attrAddresses
	attrAddrStreet
	attrAddrLocality
	attrAddrPostalCode
	attrAddrCountry
	attrAddrType
	attrAddrPrimary
)

// Mutability and returned values (RFC 7643 §7).
const (
	readWrite = "readWrite"
	readOnly  = "readOnly"
	writeOnly = "writeOnly"

	returnedAlways  = "always"
	returnedDefault = "default"
	returnedNever   = "never"
)

// attrDef is one attribute definition (RFC 7643 §7). The tables below are the single source
// of what the decoder reads, what filters and PATCH paths may name, what projection selects
// and what GET /Schemas advertises.
type attrDef struct {
	id          attrID
	name        string // canonical spelling
	typ         attrType
	multi       bool
	required    bool
	caseExact   bool
	mutability  string
	returned    string
	uniqueness  string
	canonical   []string
	description string
	sub         []*attrDef
	parent      *attrDef
	enterprise  bool // defined by the enterprise extension, rendered with its URN
}

// supported reports whether this service keeps the attribute.
func (d *attrDef) supported() bool { return d.id != attrNone }

// child finds a sub-attribute by name; attribute names are case-insensitive (RFC 7643 §2.1).
func (d *attrDef) child(name string) *attrDef {
	for _, s := range d.sub {
		if equalFold(s.name, name) {
			return s
		}
	}
	return nil
}

// valueSub is the "value" sub-attribute a filter compares when it names a multi-valued
// complex attribute without a sub-attribute ("emails co ..." in RFC 7644 §3.4.2.2).
func (d *attrDef) valueSub() *attrDef {
	if d.typ != typeComplex {
		return nil
	}
	return d.child("value")
}

// fullName is the attribute's canonical path: "name.givenName", or URN-qualified for the
// enterprise extension (RFC 7644 §3.10).
func (d *attrDef) fullName() string {
	var s string
	if d.parent != nil {
		s = d.parent.fullName() + "." + d.name
	} else {
		s = d.name
		if d.enterprise {
			s = URNEnterpriseUser + ":" + s
		}
	}
	return s
}

func str(id attrID, name, desc string) *attrDef {
	return &attrDef{id: id, name: name, typ: typeString, mutability: readWrite, returned: returnedDefault, uniqueness: "none", description: desc}
}

func boolean(id attrID, name, desc string) *attrDef {
	return &attrDef{id: id, name: name, typ: typeBoolean, mutability: readWrite, returned: returnedDefault, description: desc}
}

func complexAttr(id attrID, name string, multi bool, desc string, subs ...*attrDef) *attrDef {
	d := &attrDef{id: id, name: name, typ: typeComplex, multi: multi, mutability: readWrite, returned: returnedDefault, uniqueness: "none", description: desc, sub: subs}
	for _, s := range subs {
		s.parent = d
	}
	return d
}

func with(d *attrDef, f func(*attrDef)) *attrDef { f(d); return d }

// unsupportedMulti is a multi-valued complex attribute of the core schema that this service
// does not keep, with the sub-attributes a PATCH path or filter may name (RFC 7643 §2.4).
func unsupportedMulti(name string) *attrDef {
	return complexAttr(attrNone, name, true, "",
		str(attrNone, "value", ""), str(attrNone, "display", ""), str(attrNone, "type", ""),
		boolean(attrNone, "primary", ""))
}

var typeValues = []string{"work", "home", "other"}

// commonAttrs are the attributes every resource has (RFC 7643 §3.1).
var commonAttrs = []*attrDef{
	with(str(attrSchemas, "schemas", ""), func(d *attrDef) {
		d.multi, d.typ, d.mutability, d.returned = true, typeReference, readOnly, returnedAlways
	}),
	with(str(attrIDAttr, "id", ""), func(d *attrDef) {
		d.caseExact, d.mutability, d.returned, d.uniqueness = true, readOnly, returnedAlways, "server"
	}),
	with(str(attrExternalID, "externalId", ""), func(d *attrDef) { d.caseExact = true }),
	with(complexAttr(attrMeta, "meta", false, "",
		with(str(attrMetaResourceType, "resourceType", ""), func(d *attrDef) { d.caseExact = true }),
		&attrDef{id: attrMetaCreated, name: "created", typ: typeDateTime},
		&attrDef{id: attrMetaLastModified, name: "lastModified", typ: typeDateTime},
		with(str(attrMetaLocation, "location", ""), func(d *attrDef) { d.typ, d.caseExact = typeReference, true }),
		with(str(attrMetaVersion, "version", ""), func(d *attrDef) { d.caseExact = true }),
	), func(d *attrDef) { d.mutability, d.returned = readOnly, returnedAlways }),
}

// userAttrs is the core User schema (RFC 7643 §4.1). Entries with attrNone are defined by
// the RFC but not kept here (see the package documentation).
var userAttrs = []*attrDef{
	with(str(attrUserName, "userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Unique within the brand, compared case-insensitively."),
		func(d *attrDef) { d.required, d.uniqueness = true, "server" }),
	complexAttr(attrName, "name", false, "The components of the user's real name.",
		str(attrNameFormatted, "formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
		str(attrNameFamily, "familyName", "The family name of the User."),
		str(attrNameGiven, "givenName", "The given name of the User."),
		str(attrNone, "middleName", ""), str(attrNone, "honorificPrefix", ""), str(attrNone, "honorificSuffix", ""),
	),
	str(attrDisplayName, "displayName", "The name of the User, suitable for display to end-users."),
	str(attrNickName, "nickName", "The casual way to address the user in real life."),
	str(attrNone, "profileUrl", ""),
	str(attrTitle, "title", "The user's title, such as \"Vice President\"."),
	str(attrNone, "userType", ""),
	str(attrPreferredLanguage, "preferredLanguage", "Indicates the User's preferred written or spoken language, e.g. \"en-US\" (RFC 7231 Accept-Language)."),
	str(attrNone, "locale", ""),
	str(attrNone, "timezone", ""),
	boolean(attrActive, "active", "A Boolean value indicating the User's administrative status. false blocks the account; it is erased after the brand's grace period unless set back to true."),
	with(str(attrNone, "password", ""), func(d *attrDef) { d.mutability, d.returned = writeOnly, returnedNever }),
	complexAttr(attrEmails, "emails", true, "Email addresses for the user.",
		with(str(attrEmailValue, "value", "Email address for the User. Unique within the brand: one user per address."),
			func(d *attrDef) { d.uniqueness = "server" }),
		str(attrNone, "display", ""),
		with(str(attrEmailType, "type", "A label indicating the attribute's function, e.g. \"work\" or \"home\"."), func(d *attrDef) { d.canonical = typeValues }),
		boolean(attrEmailPrimary, "primary", "A Boolean value indicating the preferred mailing address. true at most once."),
	),
	unsupportedMulti("phoneNumbers"),
	unsupportedMulti("ims"),
	unsupportedMulti("photos"),
	complexAttr(attrAddresses, "addresses", true, "A physical mailing address for this User.",
		str(attrNone, "formatted", ""),
		str(attrAddrStreet, "streetAddress", "The full street address component."),
		str(attrAddrLocality, "locality", "The city or locality component."),
		str(attrNone, "region", ""),
		str(attrAddrPostalCode, "postalCode", "The zip code or postal code component."),
		str(attrAddrCountry, "country", "The country name component (ISO 3166-1 alpha-2)."),
		with(str(attrAddrType, "type", "A label indicating the attribute's function, e.g. \"work\" or \"home\"."), func(d *attrDef) { d.canonical = typeValues }),
		boolean(attrAddrPrimary, "primary", "A Boolean value indicating the preferred address. true at most once."),
	),
	with(unsupportedMulti("groups"), func(d *attrDef) { d.mutability = readOnly }),
	unsupportedMulti("entitlements"),
	unsupportedMulti("roles"),
	unsupportedMulti("x509Certificates"),
}

// enterpriseAttrs is the enterprise User extension (RFC 7643 §4.3); none of it is kept.
var enterpriseAttrs = func() []*attrDef {
	ds := []*attrDef{
		str(attrNone, "employeeNumber", ""), str(attrNone, "costCenter", ""),
		str(attrNone, "organization", ""), str(attrNone, "division", ""),
		str(attrNone, "department", ""),
		complexAttr(attrNone, "manager", false, "", str(attrNone, "value", ""), str(attrNone, "displayName", "")),
	}
	for _, d := range ds {
		d.enterprise = true
	}
	return ds
}()

// topLevel finds a top-level attribute of the User resource: common or core User.
func topLevel(name string) *attrDef {
	for _, tbl := range [][]*attrDef{commonAttrs, userAttrs} {
		for _, d := range tbl {
			if equalFold(d.name, name) {
				return d
			}
		}
	}
	return nil
}

func enterpriseAttr(name string) *attrDef {
	for _, d := range enterpriseAttrs {
		if equalFold(d.name, name) {
			return d
		}
	}
	return nil
}

// attrRef is a resolved attribute path (RFC 7644 §3.10: [URI ":"] ATTRNAME ["." subAttr]).
type attrRef struct {
	top *attrDef // nil when ext
	sub *attrDef // the sub-attribute, when the path names one
	ext bool     // an extension schema this service does not know: nothing in it is kept
}

// ignored reports whether the path names data this service does not keep.
func (r attrRef) ignored() bool {
	return r.ext || !r.top.supported() || (r.sub != nil && !r.sub.supported())
}

type resolveErr uint8

const (
	resolveOK resolveErr = iota
	resolveSyntax
	resolveUnknown
	resolveSchemaOnly // the path is a schema URN without an attribute
)

// isAttrName checks ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA
// (RFC 7644 §3.4.2.2, Figure 1).
func isAttrName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// equalFold compares names and keywords ignoring ASCII case only. SCIM's attribute names,
// operators and keywords are ASCII (RFC 7644 §3.4.2.2, ATTRNAME); Unicode folding would let
// "ſchemas" (long s) or a Kelvin sign stand for an ASCII letter and slip past the duplicate
// key check, which folds the same way.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldKey is the key under which equalFold-equal names collide.
func foldKey(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

// knownSchemaURN reports whether s names a schema whose attributes a User may carry.
func knownSchemaURN(s string) bool {
	return equalFold(s, URNUser) || equalFold(s, URNEnterpriseUser)
}

// resolveAttrPath resolves a full attribute path: an optional schema URN, an attribute name
// and at most one sub-attribute, all case-insensitive (RFC 7643 §2.1, RFC 7644 §3.10).
func resolveAttrPath(s string) (attrRef, resolveErr) {
	var lookup func(string) *attrDef = topLevel
	if hasPrefixFold(s, "urn:") {
		if knownSchemaURN(s) {
			return attrRef{}, resolveSchemaOnly
		}
		i := strings.LastIndexByte(s, ':')
		uri, rest := s[:i], s[i+1:]
		switch {
		case equalFold(uri, URNUser):
		case equalFold(uri, URNEnterpriseUser):
			lookup = enterpriseAttr
		default:
			if !isURN(uri) || !isAttrPathSyntax(rest) {
				return attrRef{}, resolveSyntax
			}
			return attrRef{ext: true}, resolveOK
		}
		s = rest
	}
	name, sub, dotted := strings.Cut(s, ".")
	if !isAttrName(name) || dotted && !isAttrName(sub) {
		return attrRef{}, resolveSyntax
	}
	top := lookup(name)
	if top == nil {
		return attrRef{}, resolveUnknown
	}
	ref := attrRef{top: top}
	if dotted {
		if ref.sub = top.child(sub); ref.sub == nil {
			return attrRef{}, resolveUnknown
		}
	}
	return ref, resolveOK
}

func isAttrPathSyntax(s string) bool {
	name, sub, dotted := strings.Cut(s, ".")
	return isAttrName(name) && (!dotted || isAttrName(sub))
}

// isURN is a loose check of an extension schema URN: "urn:" then printable ASCII without
// characters that end a path or filter token.
func isURN(s string) bool {
	if !hasPrefixFold(s, "urn:") || len(s) < 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"()[]`, c) >= 0 {
			return false
		}
	}
	return true
}

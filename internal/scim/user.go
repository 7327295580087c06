package scim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// User is the SCIM User resource (schema urn:ietf:params:scim:schemas:core:2.0:User, RFC 7643
// §4.1) with the attributes this service keeps. The zero value of a field means unassigned
// (RFC 7643 §2.5) and is left out of the JSON.
type User struct {
	ID         string // service-assigned, readOnly (RFC 7643 §3.1); never read from a request
	ExternalID string // the identity provider's own id for the user; caseExact
	UserName   string // required; unique per brand, compared case-insensitively (§4.1.1)

	Name              Name
	DisplayName       string
	NickName          string
	Title             string
	PreferredLanguage string

	Emails    []Email
	Addresses []Address

	// Active is the administrative status (§4.1.1): nil when the client never said. Okta and
	// Entra ID read it back after every change, so handlers should always set it.
	Active *bool

	Meta Meta // readOnly; never read from a request
}

// Name is the user's name (RFC 7643 §4.1.1, "name"); middleName and the honorifics are not kept.
type Name struct {
	GivenName  string
	FamilyName string
	Formatted  string
}

// Email is one value of "emails" (RFC 7643 §4.1.2). Type is free text; RFC 7643 suggests
// "work", "home" and "other".
type Email struct {
	Value   string
	Type    string
	Primary bool
}

// Address is one value of "addresses" (RFC 7643 §4.1.2); formatted and region are not kept.
type Address struct {
	StreetAddress string
	Locality      string
	PostalCode    string
	Country       string
	Type          string
	Primary       bool
}

// Meta is the resource metadata (RFC 7643 §3.1). resourceType is always "User".
type Meta struct {
	Created      time.Time
	LastModified time.Time
	Location     string // the user's URL: Location(baseURL, id)
	// Version is the store's opaque version of the user. The JSON carries it as the weak
	// entity tag ETag(Version), the form of RFC 7644 §3.14, which is also the ETag header.
	Version string
}

// Bool returns a pointer to b, for User.Active.
func Bool(b bool) *bool { return &b }

// PrimaryEmail is the address to use for the user: the value marked primary, else the first
// of type "work", else the first one; "" when the user has none.
func (u User) PrimaryEmail() string {
	for _, e := range u.Emails {
		if e.Primary && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if equalFold(e.Type, "work") && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if e.Value != "" {
			return e.Value
		}
	}
	return ""
}

// Equal reports whether two users carry the same data, so a handler can tell a PATCH or PUT
// that changes nothing (Entra ID re-sends unchanged values every cycle) and keep the version.
func (u User) Equal(v User) bool {
	return u.ID == v.ID && u.ExternalID == v.ExternalID && u.UserName == v.UserName &&
		u.Name == v.Name && u.DisplayName == v.DisplayName && u.NickName == v.NickName &&
		u.Title == v.Title && u.PreferredLanguage == v.PreferredLanguage &&
		slices.Equal(u.Emails, v.Emails) && slices.Equal(u.Addresses, v.Addresses) &&
		(u.Active == nil) == (v.Active == nil) && (u.Active == nil || *u.Active == *v.Active) &&
		u.Meta.Created.Equal(v.Meta.Created) && u.Meta.LastModified.Equal(v.Meta.LastModified) &&
		u.Meta.Location == v.Meta.Location && u.Meta.Version == v.Meta.Version
}

func (u User) clone() User {
	c := u
	c.Emails = slices.Clone(u.Emails)
	c.Addresses = slices.Clone(u.Addresses)
	if u.Active != nil {
		c.Active = Bool(*u.Active)
	}
	return c
}

// DecodeUser reads the body of POST /Users and PUT /Users/{id} (RFC 7644 §3.3, §3.5.1).
//
// It is tolerant the way identity providers need: attribute names in any case (RFC 7643
// §2.1); "active" and "primary" as booleans or as the strings "True"/"False" (Entra ID);
// a multi-valued attribute given as a single object; attributes this service does not keep,
// readOnly ones (id, meta, groups: RFC 7644 §3.3 says they SHALL be ignored), Okta's password
// and any extension schema are ignored. "schemas" may be missing; when present it must list
// the User schema (RFC 7643 §3). Emails without a value and addresses without any kept part
// are dropped.
//
// It refuses (400) what cannot be read without guessing: a body that is not a JSON object,
// a key twice, a value of the wrong type, more than one primary value, a missing userName.
func DecodeUser(body []byte) (User, error) {
	var u User
	if err := validBody(body); err != nil {
		return u, err
	}
	ms, ok, err := members(body)
	if err != nil {
		return u, err
	}
	if !ok {
		return u, badRequest(ScimTypeInvalidSyntax, msgBodyNotObject)
	}
	for _, m := range ms {
		if equalFold(m.name, "schemas") {
			ss, err := decodeSchemas(m.value)
			if err != nil {
				return User{}, err
			}
			if !containsFold(ss, URNUser) {
				return User{}, badRequest(ScimTypeInvalidSyntax, msgSchemasNoUser)
			}
			continue
		}
		d := topLevel(m.name)
		if d == nil || !d.supported() || d.mutability == readOnly {
			continue // extension schemas, attributes not kept, readOnly ones
		}
		if err := setAttr(&u, d, m.value, false); err != nil {
			return User{}, err
		}
	}
	if err := validate(&u); err != nil {
		return User{}, err
	}
	return u, nil
}

// setAttr assigns a whole top-level attribute from its JSON value. With merge, a complex
// value's sub-attributes are merged into what the user has (PATCH add and replace on a
// complex attribute, RFC 7644 §3.5.2.1, §3.5.2.3) and a multi-valued one is appended to.
func setAttr(u *User, d *attrDef, raw json.RawMessage, merge bool) *Error {
	switch d.id {
	case attrExternalID, attrUserName, attrDisplayName, attrNickName, attrTitle, attrPreferredLanguage:
		s, _, err := decodeString(raw)
		if err != nil {
			return err
		}
		*userString(u, d.id) = s
	case attrActive:
		b, null, err := decodeBool(raw)
		if err != nil {
			return err
		}
		u.Active = nil
		if !null {
			u.Active = Bool(b)
		}
	case attrName:
		if isNull(raw) {
			if !merge {
				u.Name = Name{}
			}
			return nil
		}
		if !merge {
			u.Name = Name{}
		}
		return decodeElem(d, raw, &u.Name)
	case attrEmails:
		return setMulti(d, &u.Emails, raw, merge)
	case attrAddresses:
		return setMulti(d, &u.Addresses, raw, merge)
	}
	return nil
}

// userString is the field behind a single-valued string attribute of the User.
func userString(u *User, id attrID) *string {
	switch id {
	case attrExternalID:
		return &u.ExternalID
	case attrUserName:
		return &u.UserName
	case attrDisplayName:
		return &u.DisplayName
	case attrNickName:
		return &u.NickName
	case attrTitle:
		return &u.Title
	case attrPreferredLanguage:
		return &u.PreferredLanguage
	}
	return nil
}

// elem is a value of a complex attribute this service keeps: Name, Email or Address. Its
// string and boolean sub-attributes are reached by attrID, so decoding, PATCH and filters
// share one implementation.
type elem interface {
	Name | Email | Address
}

type elemPtr[T elem] interface {
	*T
	str(attrID) *string
	flag(attrID) *bool
}

func (n *Name) str(id attrID) *string {
	switch id {
	case attrNameGiven:
		return &n.GivenName
	case attrNameFamily:
		return &n.FamilyName
	case attrNameFormatted:
		return &n.Formatted
	}
	return nil
}

func (n *Name) flag(attrID) *bool { return nil }

func (e *Email) str(id attrID) *string {
	switch id {
	case attrEmailValue:
		return &e.Value
	case attrEmailType:
		return &e.Type
	}
	return nil
}

func (e *Email) flag(id attrID) *bool {
	if id == attrEmailPrimary {
		return &e.Primary
	}
	return nil
}

func (a *Address) str(id attrID) *string {
	switch id {
	case attrAddrStreet:
		return &a.StreetAddress
	case attrAddrLocality:
		return &a.Locality
	case attrAddrPostalCode:
		return &a.PostalCode
	case attrAddrCountry:
		return &a.Country
	case attrAddrType:
		return &a.Type
	}
	return nil
}

func (a *Address) flag(id attrID) *bool {
	if id == attrAddrPrimary {
		return &a.Primary
	}
	return nil
}

// empty reports whether a value carries nothing worth keeping: an email without an address,
// an address without any kept part.
func empty[T elem](v T) bool {
	switch v := any(v).(type) {
	case Email:
		return v.Value == ""
	case Address:
		return v.StreetAddress == "" && v.Locality == "" && v.PostalCode == "" && v.Country == ""
	}
	return false
}

// decodeElem merges a JSON object's sub-attributes into e. Sub-attributes that are not kept
// (emails.display, addresses.region, Entra's "$ref":null...) are ignored.
func decodeElem[T elem, P elemPtr[T]](d *attrDef, raw json.RawMessage, e P) *Error {
	ms, ok, err := members(raw)
	if err != nil {
		return err
	}
	if !ok {
		return badRequest(ScimTypeInvalidValue, msgNotComplex)
	}
	for _, m := range ms {
		if err := setSub[T, P](d.child(m.name), m.value, e); err != nil {
			return err
		}
	}
	return nil
}

// setSub assigns one sub-attribute of e; null unassigns it.
func setSub[T elem, P elemPtr[T]](sub *attrDef, raw json.RawMessage, e P) *Error {
	if sub == nil || !sub.supported() {
		return nil
	}
	if p := e.str(sub.id); p != nil {
		s, _, err := decodeString(raw)
		if err != nil {
			return err
		}
		*p = s
	} else if p := e.flag(sub.id); p != nil {
		b, _, err := decodeBool(raw)
		if err != nil {
			return err
		}
		*p = b
	}
	return nil
}

// setMulti assigns (or, with merge, appends to) a multi-valued complex attribute. Appending
// a value that is already there changes nothing (RFC 7644 §3.5.2.1), and a value added as
// primary takes the mark from the others (RFC 7644 §3.5.2).
func setMulti[T elem, P elemPtr[T]](d *attrDef, list *[]T, raw json.RawMessage, merge bool) *Error {
	vals, err := multiValues(raw)
	if err != nil {
		return err
	}
	if !merge {
		*list = nil
	}
	for _, v := range vals {
		var e T
		if err := decodeElem[T, P](d, v, &e); err != nil {
			return err
		}
		if empty(e) || merge && slices.Contains(*list, e) {
			continue
		}
		if merge && primaryOf[T, P](d, &e) {
			clearPrimary[T, P](d, *list, -1)
		}
		*list = append(*list, e)
	}
	return nil
}

func primarySub(d *attrDef) *attrDef { return d.child("primary") }

func primaryOf[T elem, P elemPtr[T]](d *attrDef, e P) bool {
	if s := primarySub(d); s != nil {
		if p := e.flag(s.id); p != nil {
			return *p
		}
	}
	return false
}

// clearPrimary sets primary false on every value but list[keep].
func clearPrimary[T elem, P elemPtr[T]](d *attrDef, list []T, keep int) {
	s := primarySub(d)
	if s == nil {
		return
	}
	for i := range list {
		if i != keep {
			if p := P(&list[i]).flag(s.id); p != nil {
				*p = false
			}
		}
	}
}

// validate checks what must hold of any User this package hands back.
func validate(u *User) *Error {
	if strings.TrimSpace(u.UserName) == "" {
		return badRequest(ScimTypeInvalidValue, msgUserNameRequired)
	}
	u.Emails = slices.DeleteFunc(u.Emails, empty[Email])
	u.Addresses = slices.DeleteFunc(u.Addresses, empty[Address])
	if len(u.Emails) > maxMultiValues || len(u.Addresses) > maxMultiValues {
		return badRequest(ScimTypeInvalidValue, msgTooManyValues)
	}
	if countPrimary(u.Emails, func(e Email) bool { return e.Primary }) > 1 ||
		countPrimary(u.Addresses, func(a Address) bool { return a.Primary }) > 1 {
		return badRequest(ScimTypeInvalidValue, msgTwoPrimaries)
	}
	if len(u.Emails) == 0 {
		u.Emails = nil
	}
	if len(u.Addresses) == 0 {
		u.Addresses = nil
	}
	return nil
}

func countPrimary[T any](list []T, primary func(T) bool) int {
	n := 0
	for _, v := range list {
		if primary(v) {
			n++
		}
	}
	return n
}

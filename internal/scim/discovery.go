package scim

import (
	"encoding/json"
	"strings"
)

// The discovery endpoints (RFC 7644 §4). They advertise exactly what this package and the
// handlers built on it do: a test holds each claim against the code.

type spcSupported struct {
	Supported bool `json:"supported"`
}

type spcBulk struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

type spcFilter struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type authScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SpecURI     string `json:"specUri"`
	Primary     bool   `json:"primary"`
}

type docMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

// ServiceProviderConfig is GET /ServiceProviderConfig (RFC 7643 §5): PATCH, filters (up to
// MaxCount results a page) and ETags are supported; bulk, sorting, password changes are not;
// authentication is a bearer token (RFC 6750), the brand's SCIM token. baseURL is the SCIM
// base, e.g. https://host/api/brands/acme/scim/v2.
func ServiceProviderConfig(baseURL string) []byte {
	base := strings.TrimRight(baseURL, "/")
	b, _ := json.Marshal(struct {
		Schemas               []string     `json:"schemas"`
		Patch                 spcSupported `json:"patch"`
		Bulk                  spcBulk      `json:"bulk"`
		Filter                spcFilter    `json:"filter"`
		ChangePassword        spcSupported `json:"changePassword"`
		Sort                  spcSupported `json:"sort"`
		ETag                  spcSupported `json:"etag"`
		AuthenticationSchemes []authScheme `json:"authenticationSchemes"`
		Meta                  docMeta      `json:"meta"`
	}{
		Schemas:        []string{URNServiceProviderConfig},
		Patch:          spcSupported{true},
		Bulk:           spcBulk{},
		Filter:         spcFilter{true, MaxCount},
		ChangePassword: spcSupported{false},
		Sort:           spcSupported{false},
		ETag:           spcSupported{true},
		AuthenticationSchemes: []authScheme{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "The brand's SCIM token in an Authorization: Bearer header.",
			SpecURI:     "https://www.rfc-editor.org/info/rfc6750",
			Primary:     true,
		}},
		Meta: docMeta{"ServiceProviderConfig", base + "/ServiceProviderConfig"},
	})
	return b
}

type resourceType struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Endpoint    string   `json:"endpoint"`
	Description string   `json:"description"`
	Schema      string   `json:"schema"`
	Meta        docMeta  `json:"meta"`
}

func userResourceType(base string) resourceType {
	return resourceType{
		Schemas:     []string{URNResourceType},
		ID:          "User",
		Name:        "User",
		Endpoint:    "/Users",
		Description: "A member of the brand",
		Schema:      URNUser,
		Meta:        docMeta{"ResourceType", base + "/ResourceTypes/User"},
	}
}

// ResourceTypes is GET /ResourceTypes (RFC 7643 §6, RFC 7644 §4): a ListResponse with the
// User resource type, without schema extensions (none is kept).
func ResourceTypes(baseURL string) []byte {
	return listOf(userResourceType(strings.TrimRight(baseURL, "/")))
}

// ResourceType is GET /ResourceTypes/{name}: the single resource type, or ok=false (404).
func ResourceType(baseURL, name string) (body []byte, ok bool) {
	if name != "User" {
		return nil, false
	}
	b, _ := json.Marshal(userResourceType(strings.TrimRight(baseURL, "/")))
	return b, true
}

type schemaAttr struct {
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CaseExact       bool         `json:"caseExact"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	Mutability      string       `json:"mutability"`
	Returned        string       `json:"returned"`
	Uniqueness      string       `json:"uniqueness"`
	SubAttributes   []schemaAttr `json:"subAttributes,omitempty"`
}

type schemaDoc struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []schemaAttr `json:"attributes"`
	Meta        docMeta      `json:"meta"`
}

// describe renders the kept attributes of a table (RFC 7643 §7).
func describe(defs []*attrDef) []schemaAttr {
	var out []schemaAttr
	for _, d := range defs {
		if !d.supported() {
			continue
		}
		a := schemaAttr{
			Name: d.name, Type: d.typ.String(), MultiValued: d.multi, Description: d.description,
			Required: d.required, CaseExact: d.caseExact, CanonicalValues: d.canonical,
			Mutability: d.mutability, Returned: d.returned, Uniqueness: d.uniqueness,
			SubAttributes: describe(d.sub),
		}
		if a.Mutability == "" {
			a.Mutability = readWrite
		}
		if a.Returned == "" {
			a.Returned = returnedDefault
		}
		if a.Uniqueness == "" {
			a.Uniqueness = "none"
		}
		out = append(out, a)
	}
	return out
}

func userSchema(base string) schemaDoc {
	return schemaDoc{
		Schemas:     []string{URNSchema},
		ID:          URNUser,
		Name:        "User",
		Description: "User Account: the attributes this service keeps",
		Attributes:  describe(userAttrs),
		Meta:        docMeta{"Schema", base + "/Schemas/" + URNUser},
	}
}

// Schemas is GET /Schemas (RFC 7643 §7, RFC 7644 §4): a ListResponse with the core User
// schema, listing only the attributes this service keeps.
func Schemas(baseURL string) []byte {
	return listOf(userSchema(strings.TrimRight(baseURL, "/")))
}

// Schema is GET /Schemas/{id}: the User schema, or ok=false (404).
func Schema(baseURL, id string) (body []byte, ok bool) {
	if id != URNUser {
		return nil, false
	}
	b, _ := json.Marshal(userSchema(strings.TrimRight(baseURL, "/")))
	return b, true
}

// listOf wraps discovery resources in a ListResponse: RFC 7644 §4 says several ResourceTypes
// or Schemas SHALL come in that form, and that filters and paging SHALL be ignored there.
func listOf(resources ...any) []byte {
	l := ListResponse{TotalResults: len(resources), StartIndex: 1}
	for _, r := range resources {
		b, _ := json.Marshal(r)
		l.Resources = append(l.Resources, b)
	}
	b, _ := l.MarshalJSON()
	return b
}

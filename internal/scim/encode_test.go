package scim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// RFC 7644 §3.9: attributes narrows to what is asked (plus schemas, id, meta);
// excludedAttributes removes from the default set and cannot remove those three.
func TestUserJSON_projection(t *testing.T) {
	u := sampleUser()
	u.Meta.Version = "3"
	const always = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"m_5f3c1a9e2b7d4c8f"`
	const meta = `"meta":{"resourceType":"User","version":"W/\"3\""}`
	for name, tc := range map[string]struct {
		attributes, excluded []string
		want                 string
	}{
		"userName only": {
			[]string{"userName"}, nil,
			`{` + always + `,"userName":"alex.martin@fabrikam.example.test",` + meta + `}`,
		},
		"case-insensitive and URN-qualified names": {
			[]string{"USERNAME", "urn:ietf:params:scim:schemas:core:2.0:User:displayName"}, nil,
			`{` + always + `,"userName":"alex.martin@fabrikam.example.test","displayName":"Alex Martin",` + meta + `}`,
		},
		"a sub-attribute of a complex attribute": {
			[]string{"name.givenName"}, nil,
			`{` + always + `,"name":{"givenName":"Alex"},` + meta + `}`,
		},
		"a sub-attribute of a multi-valued attribute": {
			[]string{"emails.value", "emails.primary"}, nil,
			`{` + always + `,"emails":[{"value":"alex.martin@fabrikam.example.test","primary":true},{"value":"alex@home.example.test"}],` + meta + `}`,
		},
		"the whole attribute wins over one of its sub-attributes": {
			[]string{"name.givenName", "name"}, nil,
			`{` + always + `,"name":{"formatted":"Alex Martin","familyName":"Martin","givenName":"Alex"},` + meta + `}`,
		},
		"always-returned attributes are kept even when not asked": {
			[]string{"active"}, nil,
			`{` + always + `,"active":true,` + meta + `}`,
		},
		"unknown, unkept and malformed names are ignored": {
			[]string{"phoneNumbers", "nosuch", "name..x", " title "}, nil,
			`{` + always + `,"title":"Store Manager",` + meta + `}`,
		},
		"excluded attributes": {
			nil, []string{"emails", "addresses", "name", "preferredLanguage", "title", "displayName"},
			`{` + always + `,"externalId":"alex.martin","userName":"alex.martin@fabrikam.example.test","active":true,` + meta + `}`,
		},
		"excluded sub-attributes": {
			nil, []string{"emails.type", "emails.primary", "name.formatted", "name.familyName", "addresses", "title", "displayName", "preferredLanguage", "externalId"},
			`{` + always + `,"userName":"alex.martin@fabrikam.example.test","name":{"givenName":"Alex"},"active":true,` +
				`"emails":[{"value":"alex.martin@fabrikam.example.test"},{"value":"alex@home.example.test"}],` + meta + `}`,
		},
		"id, schemas and meta cannot be excluded": {
			[]string{"userName"}, []string{"id", "schemas", "meta", "meta.version", "userName"},
			`{` + always + `,` + meta + `}`,
		},
		"a value left empty by exclusion disappears": {
			[]string{"name.givenName"}, []string{"name.givenName"},
			`{` + always + `,` + meta + `}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := u.JSON(tc.attributes, tc.excluded)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(out))
		})
	}
}

func TestUserJSON_projectionOfAnEmptyAttributeLeavesItOut(t *testing.T) {
	u := User{ID: "1", UserName: "a@example.test"}
	out, err := u.JSON([]string{"emails.value", "name"}, nil)
	require.NoError(t, err)
	require.Equal(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","meta":{"resourceType":"User"}}`, string(out))
}

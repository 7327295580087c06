package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecodeUser_fixtures(t *testing.T) {
	want := map[string]User{
		// Entra ID's default mappings: phoneNumbers, region, roles, the enterprise extension,
		// meta and the schemas list are dropped; everything kept is read.
		"entra-create-user.json": {
			ExternalID: "alex.martin", UserName: "alex.martin@fabrikam.example.test",
			Name:        Name{GivenName: "Alex", FamilyName: "Martin", Formatted: "Alex Martin"},
			DisplayName: "Alex Martin", Title: "Store Manager", PreferredLanguage: "fr-FR",
			Emails:    []Email{{Value: "alex.martin@fabrikam.example.test", Type: "work", Primary: true}},
			Addresses: []Address{{StreetAddress: "12 rue de la Republique", Locality: "Lyon", PostalCode: "69002", Country: "FR", Type: "work", Primary: true}},
			Active:    Bool(true),
		},
		// "active":"True" and "primary":"True" as strings; userName keeps its case.
		"entra-create-user-string-active.json": {
			ExternalID: "8f14e45f-ceea-467f-a5c4-2d0b1a7e9c31", UserName: "Sam.Okafor@Fabrikam.example.test",
			Name:   Name{GivenName: "Sam", FamilyName: "Okafor"},
			Emails: []Email{{Value: "sam.okafor@fabrikam.example.test", Type: "work", Primary: true}},
			Active: Bool(true),
		},
		// Okta: password, groups and locale dropped.
		"okta-create-user.json": {
			ExternalID: "00u1ab2cd3EF4gh5ij6k", UserName: "jordan.lee@example.test",
			Name: Name{GivenName: "Jordan", FamilyName: "Lee"}, DisplayName: "Jordan Lee",
			Emails: []Email{{Value: "jordan.lee@example.test", Type: "work", Primary: true}},
			Active: Bool(true),
		},
		// Okta's PUT: id and meta are readOnly and ignored (RFC 7644 §3.5.1), middleName and
		// emails[].display are not kept.
		"okta-put-user.json": {
			ExternalID: "00u1ab2cd3EF4gh5ij6k", UserName: "jordan.lee@example.test",
			Name:   Name{GivenName: "Jordan", FamilyName: "Lee-Park"},
			Emails: []Email{{Value: "jordan.lee@example.test", Type: "work", Primary: true}},
			Active: Bool(true),
		},
		"okta-put-user-deactivate.json": {
			ExternalID: "00u1ab2cd3EF4gh5ij6k", UserName: "jordan.lee@example.test",
			Name:   Name{GivenName: "Jordan", FamilyName: "Lee-Park"},
			Emails: []Email{{Value: "jordan.lee@example.test", Type: "work", Primary: true}},
			Active: Bool(false),
		},
		// RFC 7643 §2.2: userName is caseExact false, which asks for matching without case,
		// not for folding: the value is kept as sent, and so are both display names.
		"rfc-create-user-mixed-case.json": {
			UserName: "Siobhan.OMalley@Fabrikam.example.test",
			Name:     Name{GivenName: "Siobhan", FamilyName: "O'Malley", Formatted: "Siobhán O'Malley"}, DisplayName: "Siobhán O'Malley",
			Emails: []Email{{Value: "siobhan.omalley@fabrikam.example.test", Type: "work", Primary: true}},
			Active: Bool(true),
		},
		"okta-create-user-same-email.json": {
			ExternalID: "00u9zz8yy7XW6vu5ts4r", UserName: "j.lee@example.test",
			Name: Name{GivenName: "Jordan", FamilyName: "Lee"}, DisplayName: "Jordan Lee",
			Emails: []Email{{Value: "jordan.lee@example.test", Type: "work", Primary: true}},
			Active: Bool(true),
		},
	}
	require.Len(t, want, len(userFixtures))
	for _, name := range userFixtures {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeUser(fixture(t, name))
			require.NoError(t, err)
			require.True(t, want[name].Equal(got), "got %+v", got)
			require.Equal(t, want[name], got)
		})
	}
}

func TestDecodeUser_neverKeepsThePassword(t *testing.T) {
	u, err := DecodeUser(fixture(t, "okta-create-user.json"))
	require.NoError(t, err)
	out, err := u.JSON(nil, nil)
	require.NoError(t, err)
	require.NotContains(t, string(out), "pW4-not-a-real-password")
	require.NotContains(t, string(out), "password")
}

func TestDecodeUser_tolerance(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want User
	}{
		"attribute names in any case (RFC 7643 §2.1)": {
			`{"USERNAME":"a@example.test","Active":"false","Name":{"GIVENNAME":"A"},"EMAILS":[{"VALUE":"a@example.test","Primary":"TRUE"}]}`,
			User{UserName: "a@example.test", Active: Bool(false), Name: Name{GivenName: "A"}, Emails: []Email{{Value: "a@example.test", Primary: true}}},
		},
		"no schemas at all": {
			`{"userName":"a@example.test"}`, User{UserName: "a@example.test"},
		},
		"one value without the array": {
			`{"userName":"a@example.test","emails":{"value":"a@example.test","type":"work"}}`,
			User{UserName: "a@example.test", Emails: []Email{{Value: "a@example.test", Type: "work"}}},
		},
		"null is unassigned (RFC 7643 §2.5)": {
			`{"userName":"a@example.test","displayName":null,"active":null,"name":null,"emails":null,"title":"x"}`,
			User{UserName: "a@example.test", Title: "x"},
		},
		"emails without a value and empty addresses are dropped": {
			`{"userName":"a@example.test","emails":[{"type":"work"},{"value":""}],"addresses":[{"type":"work","region":"CA"}]}`,
			User{UserName: "a@example.test"},
		},
		"an unquoted number in a string attribute keeps its digits": {
			`{"userName":"a@example.test","externalId":100042}`, User{UserName: "a@example.test", ExternalID: "100042"},
		},
		"readOnly and unknown attributes and extensions are ignored": {
			`{"id":"x","meta":{"created":"bad"},"groups":[{"value":"g"}],"userName":"a@example.test","favouriteColour":"blue",
			  "urn:example:params:scim:schemas:extension:acme:2.0:User":{"badge":"7"},"password":"secret"}`,
			User{UserName: "a@example.test"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeUser([]byte(tc.body))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeUser_refusals(t *testing.T) {
	for name, tc := range map[string]struct {
		body, scimType string
	}{
		"not JSON":                   {`{"userName":"secret.person@example.test"`, ScimTypeInvalidSyntax},
		"not an object":              {`["secret.person@example.test"]`, ScimTypeInvalidSyntax},
		"null":                       {`null`, ScimTypeInvalidSyntax},
		"a key twice":                {`{"userName":"secret.person@example.test","USERNAME":"other.person@example.test"}`, ScimTypeInvalidSyntax},
		"schemas without User":       {`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"secret.person@example.test"}`, ScimTypeInvalidSyntax},
		"schemas not a list":         {`{"schemas":"urn:ietf:params:scim:schemas:core:2.0:User","userName":"secret.person@example.test"}`, ScimTypeInvalidSyntax},
		"no userName":                {`{"displayName":"Secret Person"}`, ScimTypeInvalidValue},
		"blank userName":             {`{"userName":"   "}`, ScimTypeInvalidValue},
		"userName not a string":      {`{"userName":true}`, ScimTypeInvalidValue},
		"active not a boolean":       {`{"userName":"secret.person@example.test","active":"secret.person"}`, ScimTypeInvalidValue},
		"name not an object":         {`{"userName":"secret.person@example.test","name":"Secret Person"}`, ScimTypeInvalidValue},
		"emails not a list":          {`{"userName":"secret.person@example.test","emails":"secret.person@example.test"}`, ScimTypeInvalidValue},
		"two primary emails":         {`{"userName":"secret.person@example.test","emails":[{"value":"secret.person@example.test","primary":true},{"value":"other.person@example.test","primary":true}]}`, ScimTypeInvalidValue},
		"a string over 2048 bytes":   {`{"userName":"` + strings.Repeat("secret", 400) + `"}`, ScimTypeInvalidValue},
		"more than 20 emails":        {`{"userName":"secret.person@example.test","emails":[` + strings.TrimSuffix(strings.Repeat(`{"value":"secret.person@example.test"},`, 21), ",") + `]}`, ScimTypeInvalidValue},
		"a key twice in a sub-value": {`{"userName":"secret.person@example.test","name":{"givenName":"Secret","givenname":"Person"}}`, ScimTypeInvalidSyntax},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeUser([]byte(tc.body))
			requireSafeError(t, err, tc.scimType, tc.body)
			require.Equal(t, 400, err.(*Error).Status)
		})
	}
}

func TestPrimaryEmail(t *testing.T) {
	for _, tc := range []struct {
		emails []Email
		want   string
	}{
		{nil, ""},
		{[]Email{{Value: "home@example.test", Type: "home"}, {Value: "work@example.test", Type: "work"}, {Value: "p@example.test", Primary: true}}, "p@example.test"},
		{[]Email{{Value: "home@example.test", Type: "home"}, {Value: "work@example.test", Type: "Work"}}, "work@example.test"},
		{[]Email{{Value: "first@example.test", Type: "home"}, {Value: "second@example.test"}}, "first@example.test"},
	} {
		require.Equal(t, tc.want, User{Emails: tc.emails}.PrimaryEmail())
	}
}

func TestUserJSON_fullResource(t *testing.T) {
	u := sampleUser()
	u.Meta = Meta{
		Created:      time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		LastModified: time.Date(2026, 3, 2, 10, 0, 0, 500_000_000, time.FixedZone("CET", 3600)),
		Location:     Location("https://popsell.example.test/api/brands/acme/scim/v2/", u.ID),
		Version:      "17",
	}
	out, err := u.JSON(nil, nil)
	require.NoError(t, err)
	require.JSONEq(t, `{
		"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"id":"m_5f3c1a9e2b7d4c8f","externalId":"alex.martin","userName":"alex.martin@fabrikam.example.test",
		"name":{"formatted":"Alex Martin","familyName":"Martin","givenName":"Alex"},
		"displayName":"Alex Martin","title":"Store Manager","preferredLanguage":"fr-FR","active":true,
		"emails":[{"value":"alex.martin@fabrikam.example.test","type":"work","primary":true},{"value":"alex@home.example.test","type":"home"}],
		"addresses":[{"streetAddress":"12 rue de la Republique","locality":"Lyon","postalCode":"69002","country":"FR","type":"work","primary":true}],
		"meta":{"resourceType":"User","created":"2026-03-01T09:30:00Z","lastModified":"2026-03-02T09:00:00.5Z",
		        "location":"https://popsell.example.test/api/brands/acme/scim/v2/Users/m_5f3c1a9e2b7d4c8f","version":"W/\"17\""}
	}`, string(out))
	// The order of RFC 7643 §8.2: schemas and id first, meta last.
	require.True(t, strings.HasPrefix(string(out), `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":`), string(out))
	require.True(t, strings.HasSuffix(string(out), `"version":"W/\"17\""}}`), string(out))

	// encoding/json uses the same rendering, so a User can sit in any response struct.
	viaMarshal, err := json.Marshal(u)
	require.NoError(t, err)
	require.Equal(t, out, viaMarshal)
}

func TestUserJSON_decodesBackToTheSameUser(t *testing.T) {
	u := sampleUser()
	out, err := u.JSON(nil, nil)
	require.NoError(t, err)
	back, err := DecodeUser(out)
	require.NoError(t, err)
	u.ID = "" // readOnly: never read from a request
	require.Equal(t, u, back)
}

func TestUserJSON_escapesWithoutMangling(t *testing.T) {
	u := User{UserName: "a@example.test", DisplayName: "Ada <\"Lovelace\"> & \u2028 \x01 \xff"}
	out, err := u.JSON(nil, nil)
	require.NoError(t, err)
	require.True(t, json.Valid(out))
	require.Contains(t, string(out), `"displayName":"Ada <\"Lovelace\"> & \u2028 \u0001 \ufffd"`)
}

func TestUserJSON_leavesOutUnassigned(t *testing.T) {
	out, err := User{UserName: "a@example.test", Emails: []Email{{Value: "a@example.test"}}}.JSON(nil, nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.test",
		"emails":[{"value":"a@example.test"}],"meta":{"resourceType":"User"}}`, string(out))
}

func TestUserEqual(t *testing.T) {
	a, b := sampleUser(), sampleUser()
	require.True(t, a.Equal(b))
	b.Active = Bool(false)
	require.False(t, a.Equal(b))
	b = sampleUser()
	b.Active = nil
	require.False(t, a.Equal(b))
	b = sampleUser()
	b.Emails[1].Type = "other"
	require.False(t, a.Equal(b))
	b = sampleUser()
	a.Meta.Created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Meta.Created = a.Meta.Created.In(time.FixedZone("X", 7200))
	require.True(t, a.Equal(b))
}

func TestDecodeUser_manyKeysStayLinear(t *testing.T) {
	// A body may hold very many keys: the duplicate check must not compare each with all.
	var b strings.Builder
	b.WriteString(`{"userName":"a@example.test"`)
	for i := range 100_000 {
		fmt.Fprintf(&b, `,"k%d":0`, i)
	}
	b.WriteString(`}`)
	u, err := DecodeUser([]byte(b.String()))
	require.NoError(t, err)
	require.Equal(t, "a@example.test", u.UserName)
}

func TestDecodeUser_namesFoldInASCIIOnly(t *testing.T) {
	// "ſchemas" (long s) and "nicKName" with a Kelvin sign fold to ASCII names in Unicode;
	// as attribute names they are nothing.
	u, err := DecodeUser([]byte(`{"userName":"a@example.test","ſchemas":["x"],"nic\u212aName":"x"}`))
	require.NoError(t, err)
	require.Equal(t, User{UserName: "a@example.test"}, u)
}

// FuzzDecodeUser: DecodeUser on any body. No input panics; a refusal is an *Error that quotes
// nothing of the input; an accepted user holds the invariants (a userName, at most one
// primary, no id or meta from the request) and survives a JSON round trip unchanged, its
// userName and display names exactly as sent (RFC 7643 §2.2: matched without case, not folded).
func FuzzDecodeUser(f *testing.F) {
	for _, name := range userFixtures {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"userName":"A","id":"x","meta":{"version":"W/\"1\""},"displayName":"Ä b","name":{"formatted":"F"}}`))
	f.Add([]byte(`{"userName":"a","emails":[{"value":"a@example.test","primary":true},{"value":"b@example.test","primary":"True"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := DecodeUser(body)
		if err != nil {
			if msg := unsafeError(err, "", string(body)); msg != "" {
				t.Fatal(msg)
			}
			return
		}
		if strings.TrimSpace(u.UserName) == "" || u.ID != "" || u.Meta != (Meta{}) {
			t.Fatalf("accepted a user without its invariants: %+v", u)
		}
		out, err := u.JSON(nil, nil)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := DecodeUser(out)
		if err != nil {
			t.Fatalf("its own encoding is refused: %v", err)
		}
		if !again.Equal(u) {
			t.Fatalf("round trip changed the user:\n%+v\n%+v", u, again)
		}
	})
}

package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func oktaUser() User {
	return User{
		ID: "m_5f3c1a9e2b7d4c8f", ExternalID: "00u1ab2cd3EF4gh5ij6k", UserName: "jordan.lee@example.test",
		Name:   Name{GivenName: "Jordan", FamilyName: "Lee"},
		Emails: []Email{{Value: "jordan.lee@example.test", Type: "work", Primary: true}},
		Active: Bool(true),
	}
}

func patched(t *testing.T, u User, fixtureName string) User {
	t.Helper()
	ops, err := DecodePatch(fixture(t, fixtureName))
	require.NoError(t, err)
	require.NoError(t, ApplyPatch(&u, ops))
	return u
}

func change(u User, f func(*User)) User { f(&u); return u }

func TestApplyPatch_fixtures(t *testing.T) {
	renamed := change(sampleUser(), func(u *User) {
		u.DisplayName = "Alexandra Martin"
		u.Emails[0].Value = "alexandra.martin@fabrikam.example.test"
		u.Name.GivenName, u.Name.FamilyName = "Alexandra", "Martin-Roux"
	})
	homeOnly := change(sampleUser(), func(u *User) { u.Emails = u.Emails[1:] })
	for _, tc := range []struct {
		fixture    string
		start      User
		want       User
		unchanged  bool
		whatItDoes string
	}{
		{"entra-patch-replace-legacy.json", sampleUser(),
			change(renamed, func(u *User) { u.ExternalID = "alexandra.martin" }), false,
			"one capitalised Replace a path, the enterprise employeeNumber dropped"},
		{"entra-patch-replace-compliant.json", sampleUser(), renamed, false,
			"aadOptscim062020: a path-less replace whose keys are paths"},
		{"entra-patch-disable-legacy.json", sampleUser(), change(sampleUser(), func(u *User) { u.Active = Bool(false) }), false,
			`"active":"False"`},
		{"entra-patch-disable-compliant.json", sampleUser(), change(sampleUser(), func(u *User) { u.Active = Bool(false) }), false,
			`"active":false`},
		{"entra-patch-enable-legacy.json", change(sampleUser(), func(u *User) { u.Active = Bool(false) }), sampleUser(), false,
			`"active":"True"`},
		{"entra-patch-add-nickname.json", sampleUser(), change(sampleUser(), func(u *User) { u.NickName = "Alex" }), false,
			"Add on a single-valued attribute"},
		{"entra-patch-add-work-email.json", sampleUser(), change(sampleUser(), func(u *User) {
			u.Title = "Regional Manager"
			u.Emails[0].Value = "alex.martin@contoso.example.test"
		}), false, "Add through a filter that matches sets the value"},
		{"entra-patch-add-work-email.json", homeOnly, change(homeOnly, func(u *User) {
			u.Title = "Regional Manager"
			u.Emails = append(u.Emails, Email{Value: "alex.martin@contoso.example.test", Type: "work"})
		}), false, "Add through a filter that matches nothing creates the work email"},
		{"entra-patch-default-mappings.json", sampleUser(), change(sampleUser(), func(u *User) {
			u.Addresses[0].StreetAddress = "3 place Bellecour"
			u.PreferredLanguage = "en-GB"
			u.Active = Bool(false)
		}), false, "phone numbers, region, formatted, enterprise and roles dropped; the deactivation applies"},
		{"entra-patch-no-path-add.json", sampleUser(), change(sampleUser(), func(u *User) {
			u.DisplayName, u.Title = "Alex M.", "Area Manager"
		}), false, "path-less add with dotted keys"},
		{"okta-patch-deactivate.json", oktaUser(), change(oktaUser(), func(u *User) { u.Active = Bool(false) }), false, ""},
		{"okta-patch-reactivate.json", change(oktaUser(), func(u *User) { u.Active = Bool(false) }), oktaUser(), false, ""},
		{"okta-patch-password.json", oktaUser(), oktaUser(), true, "password sync is dropped"},
		{"entra-patch-replace-display-names.json", sampleUser(), change(sampleUser(), func(u *User) {
			u.DisplayName, u.Name.Formatted = "Alex Martin (Lyon)", "Alexandre Martin"
		}), false, "displayName and name.formatted are kept as sent"},
		{"rfc-patch-add-same-display-name.json", sampleUser(), sampleUser(), true,
			"adding the value it has changes nothing (RFC 7644 §3.5.2.1): the handler keeps the version"},
		{"rfc-patch-add-email.json", oktaUser(), change(oktaUser(), func(u *User) {
			u.Emails[0].Primary = false
			u.Emails = append(u.Emails, Email{Value: "alex@home.example.test", Type: "home", Primary: true})
		}), false, "a value added as primary takes the mark from the others"},
		{"rfc-patch-remove-filtered.json", sampleUser(), change(sampleUser(), func(u *User) { u.Emails = u.Emails[1:] }), false, ""},
		{"rfc-patch-replace-address.json", sampleUser(), change(sampleUser(), func(u *User) {
			u.Addresses[0] = Address{StreetAddress: "911 Universal City Plaza", Locality: "Hollywood", PostalCode: "91608", Country: "US", Type: "work", Primary: true}
		}), false, "the matching value is updated; region and formatted are not kept"},
	} {
		t.Run(tc.fixture+"/"+tc.whatItDoes, func(t *testing.T) {
			before := tc.start.clone()
			got := patched(t, tc.start, tc.fixture)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.unchanged, got.Equal(before))
		})
	}
	// Every patch fixture is driven above.
	seen := map[string]bool{}
	for _, name := range patchFixtures {
		seen[name] = false
	}
	for _, name := range []string{
		"entra-patch-replace-legacy.json", "entra-patch-replace-compliant.json", "entra-patch-disable-legacy.json",
		"entra-patch-disable-compliant.json", "entra-patch-enable-legacy.json", "entra-patch-add-nickname.json",
		"entra-patch-add-work-email.json", "entra-patch-default-mappings.json", "entra-patch-no-path-add.json",
		"okta-patch-deactivate.json", "okta-patch-reactivate.json", "okta-patch-password.json",
		"rfc-patch-add-email.json", "rfc-patch-remove-filtered.json", "rfc-patch-replace-address.json",
		"entra-patch-replace-display-names.json", "rfc-patch-add-same-display-name.json",
	} {
		seen[name] = true
	}
	for name, driven := range seen {
		require.True(t, driven, name)
	}
}

func TestApplyPatch_repeatingEntraCycleChangesNothing(t *testing.T) {
	// Entra ID re-sends values every cycle; a PATCH that changes nothing must be visible as
	// such, so the handler keeps the version (and the ETag) as it is.
	u := patched(t, sampleUser(), "entra-patch-replace-legacy.json")
	again := patched(t, u.clone(), "entra-patch-replace-legacy.json")
	require.True(t, u.Equal(again))
}

func TestApplyPatch_neverTouchesIDOrMeta(t *testing.T) {
	u := sampleUser()
	u.Meta = Meta{Created: time.Unix(1, 0), Version: "9", Location: "https://x.example.test/Users/1"}
	got := patched(t, u.clone(), "entra-patch-replace-compliant.json")
	require.Equal(t, u.ID, got.ID)
	require.Equal(t, u.Meta, got.Meta)
}

func TestDecodePatch_shapes(t *testing.T) {
	ops, err := DecodePatch([]byte(`{"operations":[{"OP":"Replace","PATH":"active","VALUE":"False"},{"op":"REMOVE","path":"nickName"},{"op":" add ","path":null,"value":{"title":"x"}}]}`))
	require.NoError(t, err, "no schemas, member names in any case")
	require.Equal(t, []PatchOp{
		{Op: "replace", Path: "active", Value: json.RawMessage(`"False"`)},
		{Op: "remove", Path: "nickName"},
		{Op: "add", Value: json.RawMessage(`{"title":"x"}`)},
	}, ops)
}

func TestDecodePatch_refusals(t *testing.T) {
	const s = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	for name, tc := range map[string]struct{ body, scimType string }{
		"not JSON":              {`{` + s, ScimTypeInvalidSyntax},
		"not an object":         {`[]`, ScimTypeInvalidSyntax},
		"wrong schema":          {`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"remove","path":"title"}]}`, ScimTypeInvalidSyntax},
		"no Operations":         {`{` + s + `}`, ScimTypeInvalidSyntax},
		"empty Operations":      {`{` + s + `,"Operations":[]}`, ScimTypeInvalidSyntax},
		"Operations not a list": {`{` + s + `,"Operations":{"op":"remove","path":"title"}}`, ScimTypeInvalidSyntax},
		"operation not object":  {`{` + s + `,"Operations":["remove"]}`, ScimTypeInvalidSyntax},
		"unknown op":            {`{` + s + `,"Operations":[{"op":"merge","path":"title","value":"secret.person@example.test"}]}`, ScimTypeInvalidSyntax},
		"op not a string":       {`{` + s + `,"Operations":[{"op":1,"path":"title","value":"x"}]}`, ScimTypeInvalidSyntax},
		"add without value":     {`{` + s + `,"Operations":[{"op":"add","path":"title"}]}`, ScimTypeInvalidSyntax},
		"remove without path":   {`{` + s + `,"Operations":[{"op":"remove","value":"secret.person@example.test"}]}`, ScimTypeNoTarget},
		"path not a string":     {`{` + s + `,"Operations":[{"op":"remove","path":["secret.person"]}]}`, ScimTypeInvalidPath},
		"malformed path":        {`{` + s + `,"Operations":[{"op":"replace","path":"emails[value eq \"secret.person@example.test\"","value":"x"}]}`, ScimTypeInvalidPath},
		"unknown path":          {`{` + s + `,"Operations":[{"op":"replace","path":"secretAttribute","value":"x"}]}`, ScimTypeInvalidPath},
		"a key twice":           {`{` + s + `,"Operations":[{"op":"replace","path":"title","PATH":"nickName","value":"x"}]}`, ScimTypeInvalidSyntax},
		"too many operations":   {`{` + s + `,"Operations":[` + strings.TrimSuffix(strings.Repeat(`{"op":"remove","path":"title"},`, MaxPatchOperations+1), ",") + `]}`, ScimTypeInvalidSyntax},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodePatch([]byte(tc.body))
			requireSafeError(t, err, tc.scimType, tc.body)
		})
	}
}

func applyJSON(t *testing.T, u *User, ops string) error {
	t.Helper()
	decoded, err := DecodePatch([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`))
	if err != nil {
		return err
	}
	return ApplyPatch(u, decoded)
}

func TestApplyPatch_refusals(t *testing.T) {
	for name, tc := range map[string]struct{ ops, scimType string }{
		"id by path":                       {`[{"op":"replace","path":"id","value":"m_other"}]`, ScimTypeMutability},
		"id in a path-less value, changed": {`[{"op":"replace","value":{"id":"m_other","active":false}}]`, ScimTypeMutability},
		"id removed":                       {`[{"op":"remove","path":"id"}]`, ScimTypeMutability},
		"meta":                             {`[{"op":"replace","path":"meta.lastModified","value":"2026-01-01T00:00:00Z"}]`, ScimTypeMutability},
		"groups":                           {`[{"op":"add","path":"groups","value":[{"value":"g1"}]}]`, ScimTypeMutability},
		"schemas":                          {`[{"op":"replace","path":"schemas","value":["x"]}]`, ScimTypeMutability},
		"active not a boolean":             {`[{"op":"Replace","path":"active","value":"secret.person"}]`, ScimTypeInvalidValue},
		"active a number":                  {`[{"op":"Replace","path":"active","value":0}]`, ScimTypeInvalidValue},
		"userName removed":                 {`[{"op":"remove","path":"userName"}]`, ScimTypeInvalidValue},
		"userName null":                    {`[{"op":"replace","value":{"userName":null}}]`, ScimTypeInvalidValue},
		"userName not a string":            {`[{"op":"replace","path":"userName","value":{"secret":"person"}}]`, ScimTypeInvalidValue},
		"name not an object":               {`[{"op":"replace","path":"name","value":"Secret Person"}]`, ScimTypeInvalidValue},
		"emails not a list":                {`[{"op":"add","path":"emails","value":"secret.person@example.test"}]`, ScimTypeInvalidValue},
		"path-less value not an object":    {`[{"op":"replace","value":"secret.person@example.test"}]`, ScimTypeInvalidValue},
		"unknown key in path-less value":   {`[{"op":"replace","value":{"secretAttribute":"x"}}]`, ScimTypeInvalidPath},
		"unknown sub-attribute":            {`[{"op":"replace","path":"name.secretPart","value":"x"}]`, ScimTypeInvalidPath},
		"unknown sub-attribute after a value filter": {`[{"op":"replace","path":"emails[type eq \"work\"].secretPart","value":"x"}]`, ScimTypeInvalidPath},
		"value filter on a single value":             {`[{"op":"replace","path":"userName[value eq \"x\"]","value":"x"}]`, ScimTypeInvalidPath},
		"value filter on a sub-attribute":            {`[{"op":"replace","path":"name.givenName[value eq \"x\"]","value":"x"}]`, ScimTypeInvalidPath},
		"garbage after a value filter":               {`[{"op":"replace","path":"emails[type eq \"work\"]value","value":"x"}]`, ScimTypeInvalidPath},
		"no match and nothing to build":              {`[{"op":"replace","path":"emails[value co \"secret.person\"].type","value":"work"}]`, ScimTypeNoTarget},
		"a second primary":                           {`[{"op":"replace","path":"emails","value":[{"value":"secret.person@example.test","primary":true},{"value":"other@example.test","primary":"True"}]}]`, ScimTypeInvalidValue},
		"more than twenty emails":                    {manyEmails(19), ScimTypeInvalidValue},
	} {
		t.Run(name, func(t *testing.T) {
			u := sampleUser()
			before := u.clone()
			err := applyJSON(t, &u, tc.ops)
			requireSafeError(t, err, tc.scimType, tc.ops)
			require.Equal(t, before, u, "a failed PATCH changes nothing")
		})
	}
}

// manyEmails adds n distinct emails to the sample user's two.
func manyEmails(n int) string {
	var vals []string
	for i := range n {
		vals = append(vals, fmt.Sprintf(`{"value":"user%d@example.test"}`, i))
	}
	return `[{"op":"add","path":"emails","value":[` + strings.Join(vals, ",") + `]}]`
}

func TestApplyPatch_twentyEmailsAreAllowed(t *testing.T) {
	u := sampleUser()
	require.NoError(t, applyJSON(t, &u, manyEmails(18)))
	require.Len(t, u.Emails, 20)
}

func TestApplyPatch_isAllOrNothing(t *testing.T) {
	u := sampleUser()
	before := u.clone()
	err := applyJSON(t, &u, `[{"op":"replace","path":"active","value":false},{"op":"replace","path":"displayName","value":"New"},{"op":"replace","path":"id","value":"x"}]`)
	requireSafeError(t, err, ScimTypeMutability, "")
	require.Equal(t, before, u)
}

func TestApplyPatch_behaviours(t *testing.T) {
	for name, tc := range map[string]struct {
		start User
		ops   string
		want  User
	}{
		"the id echoed back in a path-less value is harmless": {
			oktaUser(), `[{"op":"replace","value":{"id":"m_5f3c1a9e2b7d4c8f","active":false}}]`,
			change(oktaUser(), func(u *User) { u.Active = Bool(false) }),
		},
		"schemas in a path-less value is skipped": {
			oktaUser(), `[{"op":"replace","value":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"nickName":"J"}}]`,
			change(oktaUser(), func(u *User) { u.NickName = "J" }),
		},
		"a path-less value with a nested complex attribute merges it": {
			sampleUser(), `[{"op":"replace","value":{"name":{"givenName":"Alexandra"},"emails":[{"value":"new@example.test","type":"work","primary":true}]}}]`,
			change(sampleUser(), func(u *User) {
				u.Name.GivenName = "Alexandra"
				u.Emails = []Email{{Value: "new@example.test", Type: "work", Primary: true}}
			}),
		},
		"a path-less add appends to a multi-valued attribute": {
			oktaUser(), `[{"op":"add","value":{"emails":[{"value":"j@home.example.test","type":"home"}]}}]`,
			change(oktaUser(), func(u *User) { u.Emails = append(u.Emails, Email{Value: "j@home.example.test", Type: "home"}) }),
		},
		"add of a value already there changes nothing": {
			oktaUser(), `[{"op":"add","path":"emails","value":[{"value":"jordan.lee@example.test","type":"work","primary":true}]}]`,
			oktaUser(),
		},
		"replace of a whole multi-valued attribute": {
			sampleUser(), `[{"op":"replace","path":"emails","value":{"value":"only@example.test"}}]`,
			change(sampleUser(), func(u *User) { u.Emails = []Email{{Value: "only@example.test"}} }),
		},
		"replace with null unassigns": {
			sampleUser(), `[{"op":"replace","path":"emails","value":null},{"op":"replace","path":"title","value":null},{"op":"replace","path":"active","value":null}]`,
			change(sampleUser(), func(u *User) { u.Emails, u.Title, u.Active = nil, "", nil }),
		},
		"remove of a whole multi-valued attribute": {
			sampleUser(), `[{"op":"Remove","path":"addresses"}]`,
			change(sampleUser(), func(u *User) { u.Addresses = nil }),
		},
		"remove with a value array removes those values (Entra's older shape)": {
			sampleUser(), `[{"op":"Remove","path":"emails","value":[{"value":"ALEX@home.example.test"}]}]`,
			change(sampleUser(), func(u *User) { u.Emails = u.Emails[:1] }),
		},
		"remove of a filtered sub-attribute drops a value left empty": {
			sampleUser(), `[{"op":"remove","path":"emails[type eq \"work\"].value"}]`,
			change(sampleUser(), func(u *User) { u.Emails = u.Emails[1:] }),
		},
		"remove of a filtered sub-attribute keeps a value that still says something": {
			sampleUser(), `[{"op":"remove","path":"addresses[type eq \"work\"].streetAddress"}]`,
			change(sampleUser(), func(u *User) { u.Addresses[0].StreetAddress = "" }),
		},
		"remove through a filter that matches nothing changes nothing": {
			sampleUser(), `[{"op":"remove","path":"emails[type eq \"other\"]"},{"op":"remove","path":"nickName"}]`,
			sampleUser(),
		},
		"a sub-attribute without a filter applies to every value": {
			sampleUser(), `[{"op":"replace","path":"emails.type","value":"other"}]`,
			change(sampleUser(), func(u *User) { u.Emails[0].Type, u.Emails[1].Type = "other", "other" }),
		},
		"a sub-attribute without a filter creates the first value": {
			User{UserName: "u"}, `[{"op":"add","path":"emails.value","value":"u@example.test"}]`,
			User{UserName: "u", Emails: []Email{{Value: "u@example.test"}}},
		},
		"marking a value primary takes the mark from the others": {
			sampleUser(), `[{"op":"replace","path":"emails[type eq \"home\"].primary","value":"True"}]`,
			change(sampleUser(), func(u *User) { u.Emails[0].Primary, u.Emails[1].Primary = false, true }),
		},
		"a filter of eq joined by and builds the value it describes": {
			oktaUser(), `[{"op":"add","path":"emails[type eq \"home\" and primary eq false].value","value":"j@home.example.test"}]`,
			change(oktaUser(), func(u *User) { u.Emails = append(u.Emails, Email{Value: "j@home.example.test", Type: "home"}) }),
		},
		"a replace through a filter with an object merges into the matches": {
			sampleUser(), `[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"alex2@home.example.test","display":"x"}}]`,
			change(sampleUser(), func(u *User) { u.Emails[1].Value = "alex2@home.example.test" }),
		},
		"add on name merges": {
			sampleUser(), `[{"op":"add","path":"name","value":{"givenName":"Al","middleName":"dropped"}}]`,
			change(sampleUser(), func(u *User) { u.Name.GivenName = "Al" }),
		},
		"replace on name merges too (RFC 7644 §3.5.2.3)": {
			sampleUser(), `[{"op":"replace","path":"name","value":{"familyName":"Roux"}}]`,
			change(sampleUser(), func(u *User) { u.Name.FamilyName = "Roux" }),
		},
		"remove of name and of one part of it": {
			sampleUser(), `[{"op":"remove","path":"name.formatted"},{"op":"remove","path":"displayName"}]`,
			change(sampleUser(), func(u *User) { u.Name.Formatted, u.DisplayName = "", "" }),
		},
		"remove of active": {
			sampleUser(), `[{"op":"remove","path":"active"},{"op":"remove","path":"name"}]`,
			change(sampleUser(), func(u *User) { u.Active, u.Name = nil, Name{} }),
		},
		"URN-qualified core paths, names in any case": {
			sampleUser(), `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:USERNAME","value":"Alex@Fabrikam.example.test"},{"op":"replace","path":"EMAILS[TYPE EQ \"WORK\"].VALUE","value":"a@f.example.test"}]`,
			change(sampleUser(), func(u *User) {
				u.UserName = "Alex@Fabrikam.example.test"
				u.Emails[0].Value = "a@f.example.test"
			}),
		},
		"extension schemas and attributes not kept are accepted and dropped": {
			sampleUser(), `[
				{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"x"}},
				{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"x"},
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:badges","value":[{"value":"1"}]},
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:badges[value eq \"1\"].level","value":"gold"},
				{"op":"replace","path":"phoneNumbers","value":[{"value":"+33 1"}]},
				{"op":"remove","path":"x509Certificates"},
				{"op":"replace","path":"emails[type eq \"work\"].display","value":"x"},
				{"op":"replace","value":{"password":"secret","locale":"fr-FR","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"1"}}}
			]`,
			sampleUser(),
		},
		"an unquoted number for a string attribute keeps its digits": {
			sampleUser(), `[{"op":"replace","path":"externalId","value":100042}]`,
			change(sampleUser(), func(u *User) { u.ExternalID = "100042" }),
		},
	} {
		t.Run(name, func(t *testing.T) {
			u := tc.start
			require.NoError(t, applyJSON(t, &u, tc.ops))
			require.Equal(t, tc.want, u)
		})
	}
}

// FuzzApplyPatch: DecodePatch then ApplyPatch on a sample user. No input panics; a refusal
// is an *Error with a scimType that quotes nothing of the input and leaves the user as it
// was; an accepted PATCH leaves a user that holds the invariants (a userName, at most one
// primary, id and meta untouched) and survives a JSON round trip.
func FuzzApplyPatch(f *testing.F) {
	for _, name := range patchFixtures {
		f.Add(fixture(f, name))
	}
	for _, ops := range []string{
		`[{"op":"remove","path":"emails[type eq \"work\"].value"}]`,
		`[{"op":"Add","path":"emails[type eq \"home\" and primary eq true].value","value":"a@example.test"}]`,
		`[{"op":"replace","value":{"id":"x"}}]`,
		`[{"op":"replace","path":"name","value":{"givenName":null}}]`,
		`[{"op":"Remove","path":"emails","value":[{"value":"ALEX@home.example.test","type":"home"}]}]`,
	} {
		f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u := sampleUser()
		u.Meta = Meta{Version: "7", Location: "https://x.example.test/Users/m_5f3c1a9e2b7d4c8f"}
		before := u.clone()
		ops, err := DecodePatch(body)
		if err != nil {
			requireSafeError(t, err, "", string(body))
			return
		}
		if err := ApplyPatch(&u, ops); err != nil {
			requireSafeError(t, err, "", string(body))
			if !u.Equal(before) {
				t.Fatal("a failed PATCH changed the user")
			}
			return
		}
		if strings.TrimSpace(u.UserName) == "" {
			t.Fatal("userName lost")
		}
		if u.ID != before.ID || u.Meta != before.Meta {
			t.Fatal("id or meta changed")
		}
		if countPrimary(u.Emails, func(e Email) bool { return e.Primary }) > 1 ||
			countPrimary(u.Addresses, func(a Address) bool { return a.Primary }) > 1 {
			t.Fatal("two primary values")
		}
		out, err := u.JSON(nil, nil)
		if err != nil || !json.Valid(out) {
			t.Fatalf("the patched user does not render: %v", err)
		}
		back, err := DecodeUser(out)
		if err != nil {
			t.Fatalf("the patched user does not decode back: %v", err)
		}
		back.ID, back.Meta = u.ID, u.Meta
		if !back.Equal(u) {
			t.Fatalf("round trip changed the user:\n%+v\n%+v", u, back)
		}
	})
}

package scim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The canonical rendering of every line of testdata/filters.txt.
var canonicalFilters = map[string]string{
	`userName eq "alex.martin@fabrikam.example.test"`:                         `userName eq "alex.martin@fabrikam.example.test"`,
	`externalId eq "alex.martin"`:                                             `externalId eq "alex.martin"`,
	`id eq "m_5f3c1a9e2b7d4c8f"`:                                              `id eq "m_5f3c1a9e2b7d4c8f"`,
	`userName eq "jordan.lee@example.test"`:                                   `userName eq "jordan.lee@example.test"`,
	`emails[type eq "work"].value eq "x@example.test"`:                        `emails[type eq "work" and value eq "x@example.test"]`,
	`emails[type eq "work"]`:                                                  `emails[type eq "work"]`,
	`emails[type eq "work" and value co "@fabrikam.example.test"]`:            `emails[type eq "work" and value co "@fabrikam.example.test"]`,
	`emails[type eq "work" or (type eq "home" and value ew "@example.test")]`: `emails[type eq "work" or type eq "home" and value ew "@example.test"]`,
	`active eq true`: `active eq true`,
	`active eq True`: `active eq true`,
	`userName eq alex.martin@fabrikam.example.test`: `userName eq "alex.martin@fabrikam.example.test"`,
	`externalId eq 100042`:                          `externalId eq 100042`,
	`title pr`:                                      `title pr`,
	`title pr and userType eq "Employee"`:           `title pr and userType eq "Employee"`,
	`title pr or userType eq "Intern"`:              `title pr or userType eq "Intern"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`:             `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`:         `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`userType eq "Employee" and (emails.type eq "work")`:                                                `userType eq "Employee" and emails.type eq "work"`,
	`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`:                     `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`: `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`name.familyName co "O'Malley"`: `name.familyName co "O'Malley"`,
	`userName sw "J"`:               `userName sw "J"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`:              `name.familyName co "O'Malley"`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`:                                           `meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`:                                           `meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`meta.lastModified lt "2011-05-13T04:42:34Z"`:                                           `meta.lastModified lt "2011-05-13T04:42:34Z"`,
	`meta.lastModified le "2011-05-13T04:42:34Z"`:                                           `meta.lastModified le "2011-05-13T04:42:34Z"`,
	`meta.resourceType eq "User"`:                                                           `meta.resourceType eq "User"`,
	`USERNAME EQ "ALEX.MARTIN@FABRIKAM.EXAMPLE.TEST"`:                                       `userName eq "ALEX.MARTIN@FABRIKAM.EXAMPLE.TEST"`,
	`(userName eq "a@example.test") and (active eq false)`:                                  `userName eq "a@example.test" and active eq false`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "100042"`: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "100042"`,
	`displayName eq "Alex \"Al\" Martin"`:                                                   `displayName eq "Alex \"Al\" Martin"`,
	`displayName eq null`:                                                                   `displayName eq null`,
}

func TestParseFilter_validFixtures(t *testing.T) {
	lines := fixtureLines(t, "filters.txt")
	require.Len(t, canonicalFilters, len(lines))
	for _, line := range lines {
		f, err := ParseFilter(line)
		require.NoError(t, err, line)
		want, ok := canonicalFilters[line]
		require.True(t, ok, "no canonical form for %q", line)
		require.Equal(t, want, f.String(), line)
		again, err := ParseFilter(f.String())
		require.NoError(t, err)
		require.Equal(t, f.String(), again.String())
	}
}

func TestParseFilter_invalidFixtures(t *testing.T) {
	for _, line := range fixtureLines(t, "filters-invalid.txt") {
		_, err := ParseFilter(line)
		require.Error(t, err, "%q", line)
		requireSafeError(t, err, ScimTypeInvalidFilter, line)
		require.Equal(t, 400, err.(*Error).Status)
	}
}

func TestParseFilter_errorsNeverQuoteTheFilter(t *testing.T) {
	for _, s := range []string{
		`userName eq "secret.person@example.test`,
		`userName eq "secret.person@example.test" secretword`,
		`secretAttribute eq "secret.person@example.test"`,
		`userName eq "secret.person@example.test" and emails[value eq "other.secret@example.test"`,
		`meta.created gt "secret.person@example.test"`,
		`userName eq "secret.person@example.test")`,
		"userName eq secret\x01person",
	} {
		_, err := ParseFilter(s)
		requireSafeError(t, err, ScimTypeInvalidFilter, s)
		require.NotContains(t, err.Error(), "secret")
		require.Regexp(t, `\(at byte \d+\)$`, err.Error())
	}
}

func filterUser() User {
	u := sampleUser()
	u.Meta.LastModified = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	u.Meta.Created = time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC)
	return u
}

func TestFilterMatch(t *testing.T) {
	u := filterUser()
	for filter, want := range map[string]bool{
		// userName is caseExact false (RFC 7643 §4.1.1); externalId and id are caseExact.
		`userName eq "ALEX.MARTIN@fabrikam.example.test"`: true,
		`userName eq "jordan.lee@example.test"`:           false,
		`externalId eq "alex.martin"`:                     true,
		`externalId eq "ALEX.MARTIN"`:                     false,
		`id eq "m_5f3c1a9e2b7d4c8f"`:                      true,
		`id eq "M_5F3C1A9E2B7D4C8F"`:                      false,
		`userName eq alex.martin@fabrikam.example.test`:   true,
		// multi-valued: any value; "emails" alone compares emails.value.
		`emails co "home.example"`: true,
		`emails.type eq "home"`:    true,
		`emails.type eq "other"`:   false,
		`emails[type eq "work" and value co "@fabrikam.example.test"]`:         true,
		`emails[type eq "home" and value co "@fabrikam.example.test"]`:         false,
		`emails[type eq "work"].value eq "alex.martin@fabrikam.example.test"`:  true,
		`emails[type eq "home"].value eq "alex.martin@fabrikam.example.test"`:  false,
		`emails[primary eq true].value eq "ALEX.MARTIN@fabrikam.example.test"`: true,
		`emails[not (primary eq true)].value ew "@home.example.test"`:          true,
		`emails pr`:                     true,
		`addresses[locality eq "lyon"]`: true,
		`addresses.country eq "DE"`:     false,
		`name[givenName eq "Alex"]`:     true,
		`name.familyName sw "mar"`:      true,
		`name pr`:                       true,
		`title pr`:                      true,
		`nickName pr`:                   false,
		`nickName eq null`:              true,
		`displayName eq null`:           false,
		`displayName ne null`:           true,
		`nickName ne "x"`:               true,
		`active eq true`:                true,
		`active eq "False"`:             false,
		`active ne false`:               true,
		`userName gt "a"`:               true,
		`userName lt "a"`:               false,
		`userName ge "ALEX.MARTIN@FABRIKAM.EXAMPLE.TEST"`:         true,
		`userName le "alex"`:                                      false,
		`userName co "MARTIN@"`:                                   true,
		`userName ew ".TEST"`:                                     true,
		`meta.lastModified gt "2026-01-01T00:00:00Z"`:             true,
		`meta.lastModified lt "2026-03-02T11:00:00+01:00"`:        false,
		`meta.lastModified eq "2026-03-02T11:00:00+01:00"`:        true,
		`meta.created le "2026-01-15T08:00:00Z"`:                  true,
		`meta.resourceType eq "User"`:                             true,
		`meta.version pr`:                                         false,
		`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`: true,
		// Attributes of the User schema this service does not keep are unassigned.
		`phoneNumbers pr`:                    false,
		`phoneNumbers[type eq "work"]`:       false,
		`not (phoneNumbers[type eq "work"])`: true,
		`phoneNumbers.value ne "x"`:          true,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "100042"`: false,
		`emails.display pr`: false,
		// Logic: not > and > or, left to right.
		`not (userName eq "x") and active eq true`:               true,
		`title pr or userName eq "nobody" and nickName pr`:       true,
		`(title pr or userName eq "nobody") and nickName pr`:     false,
		`userName eq "nobody" or userName eq "nobody2" or id pr`: true,
	} {
		f, err := ParseFilter(filter)
		require.NoError(t, err, filter)
		require.Equal(t, want, f.Match(u), filter)
		again, err := ParseFilter(f.String())
		require.NoError(t, err, f.String())
		require.Equal(t, want, again.Match(u), "re-rendered %s", f.String())
	}
}

func TestFilter_zeroMatchesEveryone(t *testing.T) {
	var f Filter
	require.True(t, f.IsZero())
	require.True(t, f.Match(User{}))
	require.Equal(t, "", f.String())
	_, _, ok := f.Equality()
	require.False(t, ok)
}

func TestFilter_Equality(t *testing.T) {
	for filter, want := range map[string][2]string{
		`userName eq "Alex.Martin@fabrikam.example.test"`: {"userName", "Alex.Martin@fabrikam.example.test"},
		`USERNAME Eq "a@example.test"`:                    {"userName", "a@example.test"},
		`externalId eq "00u1ab2cd3EF4gh5ij6k"`:            {"externalId", "00u1ab2cd3EF4gh5ij6k"},
		`externalId eq 100042`:                            {"externalId", "100042"},
		`id eq "m_1"`:                                     {"id", "m_1"},
		`(userName eq "a@example.test")`:                  {"userName", "a@example.test"},
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@example.test"`: {"userName", "a@example.test"},
		`userName eq a@example.test`: {"userName", "a@example.test"},
	} {
		f, err := ParseFilter(filter)
		require.NoError(t, err)
		attr, value, ok := f.Equality()
		require.True(t, ok, filter)
		require.Equal(t, want, [2]string{attr, value}, filter)
	}
	for _, filter := range []string{
		`userName ne "a@example.test"`,
		`userName sw "a"`,
		`userName eq "a@example.test" and active eq true`,
		`userName eq "a@example.test" or userName eq "b@example.test"`,
		`not (userName eq "a@example.test")`,
		`displayName eq "Alex"`,
		`emails.value eq "a@example.test"`,
		`emails[value eq "a@example.test"]`,
		`userName eq null`,
		`userName pr`,
	} {
		f, err := ParseFilter(filter)
		require.NoError(t, err)
		_, _, ok := f.Equality()
		require.False(t, ok, filter)
	}
}

// TestFilter_IndexKeys: the keys a filter implies, which the SCIM handler answers through
// indexes (issue #24, finding 5), and the filters that imply none and must be scanned.
func TestFilter_IndexKeys(t *testing.T) {
	type k = IndexKey
	for filter, want := range map[string][]IndexKey{
		`userName eq "Alex.Martin@fabrikam.example.test"`:                         {{"userName", "Alex.Martin@fabrikam.example.test"}},
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@example.test"`: {{"userName", "a@example.test"}},
		`externalId eq "00u1ab2cd3EF4gh5ij6k"`:                                    {{"externalId", "00u1ab2cd3EF4gh5ij6k"}},
		`externalId eq 100042`:                                                    {{"externalId", "100042"}},
		`id eq "m_1"`:                                                             {{"id", "m_1"}},
		`emails.value eq "A@example.test"`:                                        {{"emails.value", "A@example.test"}},
		`emails eq "a@example.test"`:                                              {{"emails.value", "a@example.test"}},
		`emails[value eq "a@example.test"]`:                                       {{"emails.value", "a@example.test"}},
		`emails[type eq "work"].value eq "a@example.test"`:                        {{"emails.value", "a@example.test"}},
		`emails[type eq "work" and value eq "a@example.test"] and active eq true`: {{"emails.value", "a@example.test"}},
		`userName eq "a@example.test" and active eq true`:                         {{"userName", "a@example.test"}},
		`active eq true and (externalId eq "x" or id eq "m_2")`:                   {{"externalId", "x"}, {"id", "m_2"}},
		`userName eq "a" and (externalId eq "x" or id eq "m_2")`:                  {{"userName", "a"}},
		`userName eq "a@example.test" or userName eq "b@example.test"`:            {{"userName", "a@example.test"}, {"userName", "b@example.test"}},
		`emails[value eq "a@example.test" or value eq "b@example.test"]`:          {k{"emails.value", "a@example.test"}, k{"emails.value", "b@example.test"}},
	} {
		f, err := ParseFilter(filter)
		require.NoError(t, err)
		keys, ok := f.IndexKeys()
		require.True(t, ok, filter)
		require.Equal(t, want, keys, filter)
	}
	for _, filter := range []string{
		`userName ne "a@example.test"`,
		`userName sw "a"`,
		`userName eq "a@example.test" or active eq true`,
		`not (userName eq "a@example.test")`,
		`displayName eq "Alex"`,
		`emails.type eq "work"`,
		`emails[type eq "work"]`,
		`emails[not (value eq "a@example.test")]`,
		`addresses[type eq "work"]`,
		`name.givenName eq "Alex"`,
		`userName eq null`,
		`userName pr`,
		`active eq true`,
	} {
		f, err := ParseFilter(filter)
		require.NoError(t, err)
		keys, ok := f.IndexKeys()
		require.False(t, ok, filter)
		require.Nil(t, keys, filter)
	}
	_, ok := Filter{}.IndexKeys()
	require.False(t, ok, "no filter: every user")
}

// holdsKey reports whether u holds k under the attribute's case rules (IndexKeys).
func holdsKey(u User, k IndexKey) bool {
	switch k.Attr {
	case "id":
		return u.ID == k.Value
	case "externalId":
		return u.ExternalID == k.Value
	case "userName":
		return strings.ToLower(u.UserName) == strings.ToLower(k.Value)
	case "emails.value":
		for _, e := range u.Emails {
			if strings.ToLower(e.Value) == strings.ToLower(k.Value) {
				return true
			}
		}
	}
	return false
}

func TestFilter_Redacted(t *testing.T) {
	f, err := ParseFilter(`userName eq "secret.person@example.test" and not (emails[type eq "work" and value co "secret"]) or title pr`)
	require.NoError(t, err)
	require.Equal(t, `userName eq ? and not (emails[type eq ? and value co ?]) or title pr`, f.Redacted())
	require.NotContains(t, f.Redacted(), "secret")
}

func TestParseFilter_limits(t *testing.T) {
	long := `userName eq "` + strings.Repeat("a", MaxFilterLength) + `"`
	_, err := ParseFilter(long)
	requireSafeError(t, err, ScimTypeInvalidFilter, long)

	deep := strings.Repeat("(", MaxFilterDepth) + `title pr` + strings.Repeat(")", MaxFilterDepth)
	_, err = ParseFilter(deep)
	require.NoError(t, err, "%d levels are allowed", MaxFilterDepth)
	deeper := "(" + deep + ")"
	_, err = ParseFilter(deeper)
	requireSafeError(t, err, ScimTypeInvalidFilter, deeper)
	require.Contains(t, err.Error(), "nests more than")

	nots := strings.Repeat("not (", MaxFilterDepth+1) + `title pr` + strings.Repeat(")", MaxFilterDepth+1)
	_, err = ParseFilter(nots)
	requireSafeError(t, err, ScimTypeInvalidFilter, nots)

	terms := strings.TrimSuffix(strings.Repeat(`title pr or `, MaxFilterTerms), " or ")
	_, err = ParseFilter(terms)
	require.NoError(t, err)
	_, err = ParseFilter(terms + ` or title pr`)
	requireSafeError(t, err, ScimTypeInvalidFilter, terms)
	require.Contains(t, err.Error(), "more than 64 comparisons")
}

func TestParseFilter_whitespaceAndCase(t *testing.T) {
	for _, s := range []string{
		"userName  eq\t\"a@example.test\"",
		" userName eq \"a@example.test\" ",
		"(userName eq \"a@example.test\")",
		"userName EQ \"a@example.test\"",
	} {
		f, err := ParseFilter(s)
		require.NoError(t, err, s)
		require.Equal(t, `userName eq "a@example.test"`, f.String())
	}
	f, err := ParseFilter(`(title pr)AND(nickName pr)`)
	require.NoError(t, err, "parentheses separate tokens")
	require.Equal(t, `title pr and nickName pr`, f.String())
}

func TestParseFilter_stringEscapes(t *testing.T) {
	f, err := ParseFilter(`displayName eq "Zo\u00eb \\ \"Z\""`)
	require.NoError(t, err)
	require.True(t, f.Match(User{UserName: "z", DisplayName: `zoë \ "z"`}))
	_, err = ParseFilter("displayName eq \"bad \xff byte\"")
	requireSafeError(t, err, ScimTypeInvalidFilter, "")
	_, err = ParseFilter(`displayName eq "bad \q escape"`)
	requireSafeError(t, err, ScimTypeInvalidFilter, "")
}

// FuzzParseFilter: no input panics; a refusal is an *Error with scimType invalidFilter that
// quotes nothing of the input; an accepted filter renders to a string that parses to the
// same filter, which matches the same users.
func FuzzParseFilter(f *testing.F) {
	for _, name := range []string{"filters.txt", "filters-invalid.txt"} {
		for _, line := range fixtureLines(f, name) {
			f.Add(line)
		}
	}
	users := []User{filterUser(), {UserName: "z@example.test"}, {UserName: "q", Active: Bool(false), Emails: []Email{{Value: "v", Type: "work"}}}}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			requireSafeError(t, err, ScimTypeInvalidFilter, s)
			return
		}
		out := flt.String()
		again, err := ParseFilter(out)
		if err != nil {
			t.Fatalf("%q rendered as %q, which does not parse: %v", s, out, err)
		}
		if again.String() != out {
			t.Fatalf("%q rendered as %q, then as %q", s, out, again.String())
		}
		for _, u := range users {
			if flt.Match(u) != again.Match(u) {
				t.Fatalf("%q and its rendering %q disagree", s, out)
			}
		}
		// IndexKeys is sound: every user the filter matches holds one of its keys, so reading
		// the users the keys find loses no match. Users made of the keys themselves, and of the
		// keys in another case, probe it beyond the fixed users.
		if keys, ok := flt.IndexKeys(); ok {
			probe := users
			for _, k := range keys {
				for _, v := range []string{k.Value, strings.ToUpper(k.Value), strings.ToLower(k.Value)} {
					probe = append(probe, User{ID: v, ExternalID: v, UserName: v, Emails: []Email{{Value: v, Type: "work"}}, Active: Bool(true)})
				}
			}
			for _, u := range probe {
				if !flt.Match(u) {
					continue
				}
				if !slices.ContainsFunc(keys, func(k IndexKey) bool { return holdsKey(u, k) }) {
					t.Fatalf("%q matches a user that holds none of its index keys %q", s, keys)
				}
			}
		}
		if attr, value, ok := flt.Equality(); ok {
			var u User
			switch attr {
			case "userName":
				u.UserName = value
			case "externalId":
				u.ExternalID = value
			case "id":
				u.ID = value
			}
			if value != "" && !flt.Match(u) {
				t.Fatalf("%q: the user Equality describes does not match", s)
			}
		}
	})
}

func BenchmarkParseFilter(b *testing.B) {
	for name, s := range map[string]string{
		"entra-userName": `userName eq "alex.martin@fabrikam.example.test"`,
		"rfc-complex":    `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		"value-filter":   `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseFilter(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	u := filterUser()
	f, err := ParseFilter(`emails[type eq "work" and value ew "@FABRIKAM.example.test"] and active eq true`)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(u) {
			b.Fatal("no match")
		}
	}
}

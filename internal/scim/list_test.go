package scim

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQuery_fixtures(t *testing.T) {
	type want struct {
		filter            string
		attr, value       string // Equality, "" when none
		startIndex, count int
	}
	wants := map[string]want{
		"entra-get-by-username.query":    {`userName eq "alex.martin@fabrikam.example.test"`, "userName", "alex.martin@fabrikam.example.test", 1, DefaultCount},
		"entra-get-by-externalid.query":  {`externalId eq "alex.martin"`, "externalId", "alex.martin", 1, DefaultCount},
		"entra-test-connection.query":    {`userName eq "c7a1e0b2-5d3f-4e8a-9b6c-0f1d2e3a4b5c"`, "userName", "c7a1e0b2-5d3f-4e8a-9b6c-0f1d2e3a4b5c", 1, DefaultCount},
		"okta-get-by-username.query":     {`userName eq "jordan.lee@example.test"`, "userName", "jordan.lee@example.test", 1, 100},
		"okta-test-connection.query":     {"", "", "", 1, 2},
		"okta-import.query":              {"", "", "", 1, 100},
		"scim2-get-by-displayname.query": {`displayName eq "Alex Martin"`, "", "", 1, 100}, // no index: a scan
	}
	require.Len(t, wants, len(queryFixtures))
	for _, name := range queryFixtures {
		t.Run(name, func(t *testing.T) {
			vals, err := url.ParseQuery(string(fixture(t, name)))
			require.NoError(t, err)
			q, err := ParseQuery(vals)
			require.NoError(t, err)
			w := wants[name]
			require.Equal(t, w.filter, q.Filter.String())
			attr, value, _ := q.Filter.Equality()
			require.Equal(t, [2]string{w.attr, w.value}, [2]string{attr, value})
			require.Equal(t, w.startIndex, q.StartIndex)
			require.Equal(t, w.count, q.Count)
		})
	}
}

// The lookup every provisioning cycle starts with, as a handler would serve it: a user found
// by userName in another case (caseExact false), nobody for Entra's connection test, and a
// ListResponse that has Resources: [] when empty.
func TestListFlow_lookupBeforeCreate(t *testing.T) {
	store := []User{sampleUser(), oktaUser()}
	list := func(t *testing.T, rawQuery string) map[string]any {
		vals, err := url.ParseQuery(rawQuery)
		require.NoError(t, err)
		q, err := ParseQuery(vals)
		require.NoError(t, err)
		var matches []User
		for _, u := range store {
			if q.Filter.Match(u) {
				matches = append(matches, u)
			}
		}
		lo, hi := q.Page(len(matches))
		resp := ListResponse{TotalResults: len(matches), StartIndex: q.StartIndex}
		for _, u := range matches[lo:hi] {
			b, err := u.JSON(q.Attributes, q.ExcludedAttributes)
			require.NoError(t, err)
			resp.Resources = append(resp.Resources, b)
		}
		b, err := json.Marshal(resp)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(b, &out))
		return out
	}

	got := list(t, `filter=userName+eq+%22ALEX.MARTIN%40FABRIKAM.EXAMPLE.TEST%22`)
	require.EqualValues(t, 1, got["totalResults"])
	require.EqualValues(t, 1, got["itemsPerPage"])
	require.Equal(t, "m_5f3c1a9e2b7d4c8f", got["Resources"].([]any)[0].(map[string]any)["id"])

	got = list(t, string(fixture(t, "entra-test-connection.query")))
	require.Equal(t, map[string]any{
		"schemas":      []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": float64(0), "startIndex": float64(1), "itemsPerPage": float64(0),
		"Resources": []any{},
	}, got)

	got = list(t, string(fixture(t, "okta-test-connection.query")))
	require.EqualValues(t, 2, got["totalResults"])
	got = list(t, `startIndex=2&count=1&attributes=userName`)
	require.EqualValues(t, 2, got["totalResults"])
	require.EqualValues(t, 2, got["startIndex"])
	require.Equal(t, []any{map[string]any{
		"schemas": []any{URNUser}, "id": "m_5f3c1a9e2b7d4c8f", "userName": "jordan.lee@example.test",
		"meta": map[string]any{"resourceType": "User"},
	}}, got["Resources"])
	got = list(t, `startIndex=9&count=10`)
	require.EqualValues(t, 2, got["totalResults"])
	require.Equal(t, []any{}, got["Resources"])
}

func TestParsePaging(t *testing.T) {
	for raw, want := range map[string][2]int{
		``:                                    {1, DefaultCount},
		`startIndex=5&count=10`:               {5, 10},
		`startIndex=0`:                        {1, DefaultCount}, // below 1 means 1 (RFC 7644 §3.4.2.4)
		`startIndex=-7`:                       {1, DefaultCount},
		`count=-1`:                            {1, 0}, // negative means 0
		`count=0`:                             {1, 0}, // totalResults only
		`count=5000`:                          {1, MaxCount},
		`startindex=3&COUNT=4`:                {3, 4}, // parameter names in any case
		`startIndex=+3&count=%204`:            {3, 4},
		`startIndex=99999999999999999999999`:  {int(^uint(0) >> 1), DefaultCount},
		`startIndex=-99999999999999999999999`: {1, DefaultCount},
	} {
		vals, err := url.ParseQuery(raw)
		require.NoError(t, err)
		start, count, err := ParsePaging(vals)
		require.NoError(t, err, raw)
		require.Equal(t, want, [2]int{start, count}, raw)
	}
	for _, raw := range []string{`startIndex=abc`, `count=1.5`, `count=`, `startIndex=1&startIndex=2`, `count=1&Count=1`} {
		vals, err := url.ParseQuery(raw)
		require.NoError(t, err)
		_, _, err = ParsePaging(vals)
		requireSafeError(t, err, ScimTypeInvalidValue, raw)
	}
}

func TestQueryPage(t *testing.T) {
	for _, tc := range []struct{ start, count, total, lo, hi int }{
		{1, 100, 0, 0, 0},
		{1, 100, 3, 0, 3},
		{2, 1, 3, 1, 2},
		{3, 5, 3, 2, 3},
		{4, 5, 3, 3, 3},
		{int(^uint(0) >> 1), MaxCount, 3, 3, 3},
		{1, 0, 3, 0, 0},
	} {
		lo, hi := Query{StartIndex: tc.start, Count: tc.count}.Page(tc.total)
		require.Equal(t, [2]int{tc.lo, tc.hi}, [2]int{lo, hi}, "%+v", tc)
	}
}

func TestParseQuery_filterAndAttributes(t *testing.T) {
	q, err := ParseQuery(url.Values{"filter": {"  "}, "attributes": {" userName, emails.value ,,"}, "excludedAttributes": {"name"}})
	require.NoError(t, err)
	require.True(t, q.Filter.IsZero(), "an empty filter is no filter")
	require.Equal(t, []string{"userName", "emails.value"}, q.Attributes)
	require.Equal(t, []string{"name"}, q.ExcludedAttributes)

	// sortBy and sortOrder are ignored: ServiceProviderConfig says sort is not supported.
	q, err = ParseQuery(url.Values{"sortBy": {"userName"}, "sortOrder": {"descending"}})
	require.NoError(t, err)
	require.Equal(t, Query{StartIndex: 1, Count: DefaultCount}, q)

	const secret = `userName eq "secret.person@example.test`
	_, err = ParseQuery(url.Values{"filter": {secret}})
	requireSafeError(t, err, ScimTypeInvalidFilter, secret)
	_, err = ParseQuery(url.Values{"filter": {`title pr`}, "Filter": {`userName eq "secret.person@example.test"`}})
	requireSafeError(t, err, ScimTypeInvalidValue, "")
}

func TestDecodeSearchRequest(t *testing.T) {
	q, err := DecodeSearchRequest(fixture(t, "search-request.json"))
	require.NoError(t, err)
	require.Equal(t, `displayName sw "Alex"`, q.Filter.String())
	require.Equal(t, []string{"displayName", "userName"}, q.Attributes)
	require.Equal(t, 1, q.StartIndex)
	require.Equal(t, 10, q.Count)

	q, err = DecodeSearchRequest([]byte(`{"FILTER":"userName eq \"a@example.test\"","startIndex":"0","count":"-3",
		"attributes":"userName,emails","excludedAttributes":["name.givenName, title"],"sortBy":"userName","sortOrder":"ascending","filter2":1}`))
	require.NoError(t, err, "no schemas, names in any case, numbers as strings, lists as strings")
	require.Equal(t, `userName eq "a@example.test"`, q.Filter.String())
	require.Equal(t, 1, q.StartIndex)
	require.Equal(t, 0, q.Count)
	require.Equal(t, []string{"userName", "emails"}, q.Attributes)
	require.Equal(t, []string{"name.givenName", "title"}, q.ExcludedAttributes)

	q, err = DecodeSearchRequest([]byte(`{"filter":null,"count":5000}`))
	require.NoError(t, err)
	require.True(t, q.Filter.IsZero())
	require.Equal(t, MaxCount, q.Count)
	q, err = DecodeSearchRequest([]byte(`{"filter":" "}`))
	require.NoError(t, err)
	require.True(t, q.Filter.IsZero(), "as in ParseQuery, an empty filter is no filter")

	for body, scimType := range map[string]string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`: ScimTypeInvalidSyntax,
		`{"filter":"userName eq \"secret.person@example.test"}`:         ScimTypeInvalidFilter,
		`{"filter":["secret.person@example.test"]}`:                     ScimTypeInvalidValue,
		`{"count":"secret.person"}`:                                     ScimTypeInvalidValue,
		`{"count":1.5}`:                                                 ScimTypeInvalidValue,
		`{"attributes":{"secret":"person"}}`:                            ScimTypeInvalidValue,
		`"secret.person@example.test"`:                                  ScimTypeInvalidSyntax,
		`{"filter":"title pr"`:                                          ScimTypeInvalidSyntax,
	} {
		_, err := DecodeSearchRequest([]byte(body))
		requireSafeError(t, err, scimType, body)
	}
}

func TestListResponse_JSON(t *testing.T) {
	b, err := json.Marshal(ListResponse{})
	require.NoError(t, err)
	require.Equal(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`, string(b))

	b, err = json.Marshal(ListResponse{TotalResults: 7, StartIndex: 3, Resources: []json.RawMessage{[]byte(`{"id":"1"}`), []byte(`{"id":"2"}`)}})
	require.NoError(t, err)
	require.Equal(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":7,"startIndex":3,"itemsPerPage":2,"Resources":[{"id":"1"},{"id":"2"}]}`, string(b))

	_, err = json.Marshal(ListResponse{Resources: []json.RawMessage{[]byte(`{`)}})
	require.Error(t, err)
	require.False(t, strings.Contains(err.Error(), "{"))
}

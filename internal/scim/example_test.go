package scim_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"

	"popsell-gdpr/internal/scim"
)

// GET /Users?filter=userName eq "…": an indexed lookup when the filter allows one. userName
// is caseExact false, so the index must fold case.
func ExampleFilter_Equality() {
	q, err := scim.ParseQuery(url.Values{"filter": {`userName eq "Alex.Martin@Fabrikam.example.test"`}, "count": {"100"}})
	if err != nil {
		panic(err)
	}
	if attr, value, ok := q.Filter.Equality(); ok {
		fmt.Println(attr, value)
	}
	fmt.Println(q.Filter.Redacted()) // what a log line may say
	// Output:
	// userName Alex.Martin@Fabrikam.example.test
	// userName eq ?
}

// PATCH /Users/{id} as Entra ID sends a deactivation without aadOptscim062020: If-Match,
// decode, apply, skip the write when nothing changed, answer 200 with the user.
func ExampleApplyPatch() {
	stored := scim.User{ID: "m_1", UserName: "alex@example.test", Active: scim.Bool(true),
		Meta: scim.Meta{Version: "4", Location: scim.Location("https://h.example.test/scim/v2", "m_1")}}
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	w := httptest.NewRecorder()

	if ifMatch := `W/"4"`; ifMatch != "" && !scim.MatchETag(ifMatch, stored.Meta.Version) {
		scim.WriteError(w, scim.PreconditionFailed())
		return
	}
	ops, err := scim.DecodePatch(body)
	if err != nil {
		scim.WriteError(w, err)
		return
	}
	u := stored
	if err := scim.ApplyPatch(&u, ops); err != nil {
		scim.WriteError(w, err)
		return
	}
	if !u.Equal(stored) {
		u.Meta.Version = "5" // the store's new version, after the write
	}
	scim.WriteUser(w, 200, u, nil, nil)
	fmt.Println(w.Code, w.Header().Get("ETag"), *u.Active)
	fmt.Println(w.Body.String())
	// Output:
	// 200 W/"5" false
	// {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"m_1","userName":"alex@example.test","active":false,"meta":{"resourceType":"User","location":"https://h.example.test/scim/v2/Users/m_1","version":"W/\"5\""}}
}

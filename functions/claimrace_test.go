package main

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Issue 24, finding 2: concurrent creates of one user lost its uniqueness claim in 19 of 80
// rounds; the member was then found by nothing, a second member got its userName, and a
// deletion never reached it. With 50 at once, most answered 503 and some bursts answered 201
// twice for one id. These tests send the bursts through the real handler, on both stores, and
// assert what every request answered and what the store holds after each round; how long it
// takes is not asserted.

const (
	raceRounds = 20
	raceBurst  = 50
)

// burst sends n requests at once and returns their answers.
func burst(n int, send func(i int) response) []response {
	out := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = send(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// raceFigures count, over every round, the answers and states the protocol rules out; the
// tests log them (the closing note of issue 24 reports them before and after the fix) and
// require each to be zero.
type raceFigures struct {
	unavailable   int // answered 503
	wrongAnswer   int // another status than the protocol's, or another member than the round's
	notOneCreated int // rounds in which not exactly one request created the member
	lost          int // rounds whose member is not found by each of its keys, or shares one
	undeleted     int // rounds whose deletion did not reach the member
}

func (f raceFigures) check(t *testing.T) {
	t.Helper()
	t.Logf("%d rounds of %d at once: %d answered 503, %d answered otherwise wrong, %d rounds without exactly one create, %d rounds lost a key, %d deletions missed the member",
		raceRounds, raceBurst, f.unavailable, f.wrongAnswer, f.notOneCreated, f.lost, f.undeleted)
	require.Equal(t, raceFigures{}, f)
}

// TestConcurrentSSOUpsertsConvergeOnOneMember: 50 user.upserted of one user at once, 20 times;
// every request answers 200 with the same member, exactly one says created, the member is found
// by its external id and its address, and user.deleted reaches it.
func TestConcurrentSSOUpsertsConvergeOnOneMember(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret})
		var fig raceFigures
		for round := range raceRounds {
			ext := fmt.Sprintf("race-%s-%d", be.name, round)
			email := fmt.Sprintf("race%d@example.test", round)
			at := time.Now()
			answers := burst(raceBurst, func(int) response {
				return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", at, upsertData(ext, email, "Grace"))})
			})
			member, created := "", 0
			for _, res := range answers {
				switch {
				case res.Status == 503:
					fig.unavailable++
					continue
				case res.Status != 200:
					fig.wrongAnswer++
					continue
				}
				body := res.JSON(t)
				if body["outcome"] == "created" {
					created++
					member = fmt.Sprint(body["memberId"])
				}
			}
			for _, res := range answers {
				if res.Status == 200 && res.JSON(t)["memberId"] != member {
					fig.wrongAnswer++
				}
			}
			if created != 1 {
				fig.notOneCreated++
				continue
			}
			if !foundByItsKeys(t, app, member, ext, email) {
				fig.lost++
			}
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.deleted", time.Now(), map[string]any{"externalId": ext})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			if u, err := app.App.Store.GetUser(t.Context(), "acme", member); err != nil || u.Status != gdpr.UserBlocked {
				fig.undeleted++
			}
		}
		fig.check(t)
	})
}

// TestConcurrentSCIMCreatesConvergeOnOneMember: 50 POST /Users of one userName at once, 20
// times; exactly one answers 201, every other 409 uniqueness (RFC 7644 §3.3, as a duplicate
// sent later), none 503; the filter finds the one member and DELETE reaches it.
func TestConcurrentSCIMCreatesConvergeOnOneMember(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"scimToken": scimToken})
		var fig raceFigures
		for round := range raceRounds {
			userName := fmt.Sprintf("race.%s.%d@fabrikam.example.test", be.name, round)
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"active":true,
				"name":{"givenName":"Grace","familyName":"Hopper"},"emails":[{"primary":true,"type":"work","value":%q}]}`, userName, userName)
			answers := burst(raceBurst, func(int) response { return app.scim("POST", "/Users", body) })
			id, created := "", 0
			for _, res := range answers {
				switch {
				case res.Status == 201:
					created++
					id = fmt.Sprint(res.JSON(t)["id"])
				case res.Status == 409 && res.JSON(t)["scimType"] == "uniqueness":
				case res.Status == 503:
					fig.unavailable++
				default:
					fig.wrongAnswer++
				}
			}
			if created != 1 {
				fig.notOneCreated++
				continue
			}
			q := url.Values{"filter": {fmt.Sprintf("userName eq %q", userName)}}
			found := scimList(t, app.scim("GET", "/Users?"+q.Encode(), ""))
			if len(found) != 1 || found[0].(map[string]any)["id"] != id || !foundByItsKeys(t, app, id, userName, userName) {
				fig.lost++
			}
			require.Equal(t, 204, app.scim("DELETE", "/Users/"+id, "").Status)
			if u, err := app.App.Store.GetUser(t.Context(), "acme", id); err != nil || u.Status != gdpr.UserBlocked {
				fig.undeleted++
			}
		}
		fig.check(t)
	})
}

// foundByItsKeys tells whether the claims of the member's external id and address name it,
// and no other live member of the brand holds either.
func foundByItsKeys(t *testing.T, app *testApp, member, ext, email string) bool {
	t.Helper()
	h := gdprHasher(t, app)
	for _, key := range []string{gdpr.ClaimExternalID + h.Digest(ext), gdpr.ClaimEmail + h.EmailDigest(email)} {
		if c, err := app.App.Store.GetClaim(t.Context(), "acme", key); err != nil || c.Owner != member {
			return false
		}
	}
	users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 10_000)
	require.NoError(t, err)
	for _, u := range users {
		if u.ID != member && u.Status != gdpr.UserErased && (u.ExternalID == ext || u.Email+u.EmailTmp == email) {
			return false
		}
	}
	return true
}

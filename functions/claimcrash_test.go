package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/stdwebhooks"
)

// TestKillDuringConcurrentCreatesLosesNoMember is issue 24's finding 2 with the process killed:
// bursts of concurrent upserts of ten users run in the real handler process, which gets kill -9
// while they are in flight, so creates die between their claims and their user. After a
// restart, once the lease of the dead creates has passed, every user is provisioned again
// under one member, found by its userName, and its deletion reaches it.
func TestKillDuringConcurrentCreatesLosesNoMember(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the handler as a process twice")
	}
	dir := t.TempDir()
	p := startHandlerProcess(t, dir)
	c := &testApp{t: t, URL: p.url, httpc: &http.Client{Timeout: 30 * time.Second}}
	c.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "scimToken": scimToken})

	const users, perUser = 10, 20
	ext := func(u int) string { return fmt.Sprintf("crash-%d", u) }
	send := func(url string, u int) int { // status, or 0 when the process died under the request
		return postWebhook(url, ssoBody("user.upserted", time.Now(), upsertData(ext(u), fmt.Sprintf("crash%d@example.test", u), "Grace")))
	}
	var answered atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range users * perUser {
		wg.Go(func() {
			<-start
			if send(p.url, i%users) != 0 {
				answered.Add(1)
			}
		})
	}
	close(start)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for answered.Load() < users { // kill once some creates finished and most are in flight
		select {
		case <-finished:
		case <-time.After(time.Millisecond):
			continue
		}
		break
	}
	p.kill(t)
	<-finished
	t.Logf("%d of %d requests answered before the kill", answered.Load(), users*perUser)

	p = startHandlerProcess(t, dir)
	c.URL = p.url
	c.setClock(t, time.Now().Add(2*gdpr.ClaimLease))
	members := map[string]string{}
	for u := range users {
		require.Equal(t, 200, send(p.url, u), "user %d is provisioned again", u)
	}
	for _, item := range scimAll(t, c) {
		m := item.(map[string]any)
		name := fmt.Sprint(m["userName"])
		require.NotContains(t, members, name, "two members hold userName %s", name)
		members[name] = fmt.Sprint(m["id"])
	}
	for u := range users {
		id, ok := members[ext(u)]
		require.True(t, ok, "user %d is found by its userName", u)
		q := url.Values{"filter": {fmt.Sprintf("userName eq %q", ext(u))}}
		found := scimList(t, c.scim("GET", "/Users?"+q.Encode(), ""))
		require.Len(t, found, 1, "user %d is found by its userName", u)
		require.Equal(t, id, found[0].(map[string]any)["id"])
		res := c.scim("DELETE", "/Users/"+id, "")
		require.Equal(t, 204, res.Status, "%s", res.Body)
		require.Equal(t, 404, c.scim("GET", "/Users/"+id, "").Status, "the deletion reached user %d", u)
		require.Empty(t, scimList(t, c.scim("GET", "/Users?"+q.Encode(), "")), "no other member holds user %d's userName", u)
	}
}

// postWebhook sends a signed user event without failing the test when the process is killed
// under it; 0 means no answer.
func postWebhook(base, body string) int {
	key, _ := gdpr.WebhookSecretKey(ssoSecret)
	id := fmt.Sprintf("msg_%d", webhookSeq.Add(1))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest("POST", base+"/api/brands/acme/sso/events", strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", stdwebhooks.SignatureHeader(key, id, ts, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// scimAll lists every provisioned user of the brand through SCIM.
func scimAll(t *testing.T, c *testApp) []any {
	t.Helper()
	var all []any
	for start := 1; ; {
		page := scimList(t, c.scim("GET", fmt.Sprintf("/Users?startIndex=%d&count=100", start), ""))
		all = append(all, page...)
		if len(page) < 100 {
			return all
		}
		start += len(page)
	}
}

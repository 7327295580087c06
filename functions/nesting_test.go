package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/httpapi"
	"popsell-gdpr/internal/mailjet"
	"popsell-gdpr/internal/scim"
)

// TestDeeplyNestedBodiesLeaveTheProcessServing is finding 1 of issue 24, against the real
// handler process: {"token": followed by 60,000 [ (60 KB) ended in "fatal error: out of
// memory". Every decoder of outside input answers such a body, and one as deep as its size
// limit allows, with 400, and the process keeps serving.
func TestDeeplyNestedBodiesLeaveTheProcessServing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the handler as a process")
	}
	p := startHandlerProcess(t, t.TempDir())
	c := &testApp{t: t, URL: p.url, httpc: &http.Client{Timeout: 60 * time.Second}}
	callback := map[string]string{"username": "mailjet", "password": "demo-callback-password-0123"}
	c.putBrand("demo", map[string]any{"webhookSecret": ssoSecret, "scimToken": scimToken, "mailjetCallback": callback})

	// deep is head followed by [ up to n bytes, never closed.
	deep := func(head string, n int) string { return head + strings.Repeat("[", n-len(head)) }
	const review = 60_000 + len(`{"token":`)
	apiMost, eventsMost, envelopeMost := httpapi.MaxBodyBytes, httpapi.MaxMailEventBytes, azfunc.MaxInvocationBytes
	scimAuth := header{"Authorization": "Bearer " + scimToken, "Content-Type": "application/scim+json"}
	mailjetAuth := header{"Authorization": "Basic " + basic(callback["username"], callback["password"])}

	created := c.do("POST", "/api/brands/demo/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"nested@example.test","externalId":"e-nested","emails":[{"value":"nested@example.test","primary":true}]}`, scimAuth)
	require.Equal(t, http.StatusCreated, created.Status, "%s", created.Body)
	userID := created.JSON(t)["id"].(string)

	type call struct {
		method, path, head string
		h                  header
		most               int    // the route's size limit
		signed             string // a signed webhook's path under the brand
		bound              string // what the 400 says, when the answer is the project's envelope
	}
	api := "nested deeper than 16 levels"
	calls := map[string]call{
		"invitation":     {"POST", "/api/brands/demo/invitation", `{"token":`, nil, apiMost, "", api},
		"signup":         {"POST", "/api/brands/demo/signup", `{"email":`, nil, apiMost, "", api},
		"signup_confirm": {"POST", "/api/brands/demo/signup/confirm", `{"token":`, nil, apiMost, "", api},
		"signup_resend":  {"POST", "/api/brands/demo/signup/resend", `{"email":`, nil, apiMost, "", api},
		"admin_brand":    {"PUT", "/api/admin/brands/demo", `{"name":`, admin, apiMost, "", api},
		"admin_block":    {"POST", "/api/admin/brands/demo/members/m_x/block", `{"reason":`, admin, apiMost, "", api},
		"sso_events":     {"", "", `{"type":`, nil, apiMost, "sso/events", api},
		"orders":         {"", "", `{"orderId":`, nil, apiMost, "orders", api},
		"contacts_sync":  {"", "", `{"contacts":`, nil, apiMost, "contacts/sync", api},
		"mailjet_events": {"POST", "/api/brands/demo/mailjet/events", `[{"event":"sent","email":`, mailjetAuth, eventsMost, "", api},
		"scim_create":    {"POST", "/api/brands/demo/scim/v2/Users", `{"schemas":`, scimAuth, apiMost, "", ""},
		"scim_patch":     {"PATCH", "/api/brands/demo/scim/v2/Users/" + userID, `{"Operations":`, scimAuth, apiMost, "", ""},
		"scim_search":    {"POST", "/api/brands/demo/scim/v2/Users/.search", `{"schemas":`, scimAuth, apiMost, "", ""},
		"envelope_queue": {"POST", "/MailSender", `{"Data":{"msg":`, nil, envelopeMost, "", ""},
		"envelope_timer": {"POST", "/RetentionSweep", `{"Data":{"timer":`, nil, envelopeMost, "", ""},
	}
	for name, cl := range calls {
		for size, n := range map[string]int{"60k": review, "limit": cl.most} {
			t.Run(name+"_"+size, func(t *testing.T) {
				body := deep(cl.head, n)
				var res response
				if cl.signed != "" {
					res = c.sendWebhook("demo", signedWebhook{secret: ssoSecret, path: cl.signed, body: body})
				} else {
					res = c.do(cl.method, cl.path, body, cl.h)
				}
				require.Equal(t, http.StatusBadRequest, res.Status, "%.300s", res.Body)
				if cl.bound != "" {
					require.Contains(t, string(res.Body), cl.bound)
				}
				if strings.Contains(cl.path, "/scim/") {
					require.Contains(t, string(res.Body), "nested deeper than "+strconv.Itoa(scim.MaxDepth)+" levels")
				}
				require.Equal(t, http.StatusOK, c.do("GET", "/api/health", nil, nil).Status, "the process keeps serving")
			})
		}
	}
	require.Nil(t, p.cmd.ProcessState, "the handler is still running")
	require.Equal(t, 16, mailjet.MaxDepth, "the Mailjet 400 says 16")
	res := c.admin("GET", "/api/admin/brands/demo", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "Brand demo", res.JSON(t)["name"], "the refused PUT changed nothing")
}

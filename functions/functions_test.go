package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/triggers"
)

var routeParam = regexp.MustCompile(`\{([a-z]+)(:[^}]*\))?\}`)

// samplePath turns a function.json route into a concrete path: the regex-constrained
// first segment of admin routes becomes "admin", other parameters sample values.
func samplePath(route string) string {
	return "/api/" + routeParam.ReplaceAllStringFunc(route, func(p string) string {
		switch m := routeParam.FindStringSubmatch(p); m[1] {
		case "area":
			return "admin"
		case "brand":
			return "demo"
		default:
			return "x"
		}
	})
}

// TestFunctionsMatchTheRouter checks every function.json against the router: each HTTP
// function's route and methods reach a handler, and each timer or queue function has its
// POST /{FunctionName} handler.
func TestFunctionsMatchTheRouter(t *testing.T) {
	app := startApp(t, nil)
	defs, err := azfunc.LoadFunctions(functionDefs)
	require.NoError(t, err)
	require.NotEmpty(t, defs)

	var nonHTTP []string
	for _, f := range defs {
		t.Run(f.Name, func(t *testing.T) {
			if f.IsHTTP() {
				trig := f.Trigger()
				// The host refuses routes and names starting with "admin" (built-in routes).
				require.False(t, strings.HasPrefix(strings.ToLower(trig.Route), "admin"), "route %q", trig.Route)
				require.False(t, strings.HasPrefix(strings.ToLower(f.Name), "admin"))
				require.NotEmpty(t, trig.Methods)
				for _, m := range trig.Methods {
					method := strings.ToUpper(m)
					if method == "HEAD" {
						method = "GET"
					}
					res := app.do(method, samplePath(trig.Route), nil, admin)
					require.NotEqual(t, http.StatusMethodNotAllowed, res.Status, "%s %s", method, samplePath(trig.Route))
					if res.Status == 404 {
						require.NotContains(t, string(res.Body), "no such route", "%s %s", method, samplePath(trig.Route))
					}
				}
				// A method the function does not list gets 405 whose Allow names exactly the
				// methods it lists: the router takes no method the host would not forward.
				var listed []string // HEAD aside: ServeMux answers it wherever GET is
				for _, m := range trig.Methods {
					if m := strings.ToUpper(m); m != "HEAD" {
						listed = append(listed, m)
					}
				}
				if !slices.Contains(listed, "DELETE") {
					res := app.do("DELETE", samplePath(trig.Route), nil, admin)
					if res.Status != 404 { // the SCIM folder's catch-all route samples no SCIM path
						require.Equal(t, http.StatusMethodNotAllowed, res.Status, "%s", res.Body)
						allow := strings.Split(res.Header.Get("Allow"), ", ")
						allow = slices.DeleteFunc(allow, func(m string) bool { return m == "HEAD" })
						slices.Sort(allow)
						slices.Sort(listed)
						require.Equal(t, listed, allow, "Allow of %s", samplePath(trig.Route))
					}
				}
				return
			}
			nonHTTP = append(nonHTTP, f.Name)
			require.True(t, f.IsTimer() || f.IsServiceBus(), "%s is neither HTTP, timer nor Service Bus", f.Name)
		})
	}
	var want []string
	for _, q := range app.App.Triggers.Queues {
		want = append(want, q.Name)
		def := findFunction(t, defs, q.Name)
		require.Equal(t, q.Queue, def.Trigger().QueueName)
		require.Equal(t, q.Binding, def.Trigger().Name)
	}
	for _, tf := range app.App.Triggers.Timers {
		want = append(want, tf.Name)
		def := findFunction(t, defs, tf.Name)
		require.Equal(t, tf.Binding, def.Trigger().Name)
		_, err := azfunc.ParseSchedule(def.Trigger().Schedule)
		require.NoError(t, err)
	}
	slices.Sort(want)
	slices.Sort(nonHTTP)
	require.Equal(t, want, nonHTTP, "queue and timer functions in Go and in function.json")
	require.Equal(t, "0 0 2 * * *", findFunction(t, defs, triggers.RetentionSweep).Trigger().Schedule, "daily 02:00 UTC")
	require.Equal(t, "0 0 3 * * *", findFunction(t, defs, triggers.LedgerSeal).Trigger().Schedule,
		"daily 03:00 UTC: after the sweep, and more than SealDelay after the day before ended")
	require.Equal(t, "0 0 4 * * *", findFunction(t, defs, triggers.WarehouseExport).Trigger().Schedule,
		"daily 04:00 UTC: after the sweep and the erasures it queues, so the day's files show them (R-DWH-3)")
}

// TestWrongMethodGets405: a route asked with a method it does not take answers 405 with an
// Allow header listing the methods it takes, in the error envelope; a path that is no route
// stays 404 (issue #17 item 9).
func TestWrongMethodGets405(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/api/brands/acme/signup", "POST"},
		{"DELETE", "/api/admin/brands/acme", "GET, HEAD, PUT, PATCH"},
		{"POST", "/api/health", "GET, HEAD"},
		{"PUT", "/api/brands/acme/invitation", "GET, HEAD, POST"},
		{"GET", "/RetentionSweep", "POST"},
	} {
		res := app.do(c.method, c.path, nil, admin)
		require.Equal(t, http.StatusMethodNotAllowed, res.Status, "%s %s: %s", c.method, c.path, res.Body)
		require.Equal(t, c.allow, res.Header.Get("Allow"), "%s %s", c.method, c.path)
		require.Equal(t, "method_not_allowed", res.errorCode(t))
	}
	res := app.admin("GET", "/api/brands/acme/no-such-thing", nil)
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Empty(t, res.Header.Get("Allow"))
	require.Equal(t, "not_found", res.errorCode(t))
	// The right method is still routed as before.
	require.Equal(t, 200, app.admin("GET", "/api/admin/brands/acme", nil).Status)
}

func findFunction(t *testing.T, defs []azfunc.Function, name string) azfunc.Function {
	t.Helper()
	for _, d := range defs {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no function.json for %s", name)
	return azfunc.Function{}
}

// TestMailSenderInvocation drives the MailSender function as the Functions host would: a
// Service Bus envelope with the message body encoded twice.
func TestMailSenderInvocation(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	p := newFakePerson()
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
	before := len(app.mails())
	users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Len(t, users, 1)

	host := azfunctest.NewHost(t, app.App.Handler)
	body := []byte(`{"brandId":"acme","kind":"signup_confirmation","userId":"` + users[0].ID + `"}`)
	res := host.Invoke(triggers.MailSender, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: body, MessageID: "m-1", DeliveryCount: 1}))
	require.NoError(t, res.Err())
	mails := app.mails()
	require.Len(t, mails, before+1)
	require.Equal(t, gdpr.MailSignupConfirmation, mails[len(mails)-1].Kind)

	t.Run("malformed_message_fails_so_the_host_retries_then_dead_letters", func(t *testing.T) {
		res := host.Invoke(triggers.MailSender, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: []byte(`{"nope":1}`), MessageID: "m-2", DeliveryCount: 1}))
		require.Error(t, res.Err())
	})
	t.Run("readiness_answers_GET_root", func(t *testing.T) {
		rec := httptest.NewRecorder()
		app.App.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		require.Equal(t, 200, rec.Code)
	})
}

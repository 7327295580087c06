package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogsCarryNoPersonalData runs the whole signup flow with generated data and asserts that
// no log line holds the email, names, password, token or client IP (R-OPS-1).
func TestLogsCarryNoPersonalData(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"fields": map[string]string{"alias": "required"}})
	p := newFakePerson()
	const clientIP = "203.0.113.77"
	fwd := header{"X-Forwarded-For": clientIP, "X-Client-IP": clientIP}

	in := p.signup()
	in["alias"], in["customerId"], in["dateOfBirth"] = "Quillfeather93", "CUST-99817", "1991-04-23"
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", in, fwd).Status)
	token := app.confirmationToken(p)
	require.Equal(t, 200, app.do("GET", "/api/brands/acme/signup/confirm?token="+token, nil, fwd).Status)
	require.Equal(t, 200, app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": token}, fwd).Status)
	require.Equal(t, 410, app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": token}, fwd).Status)
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", in, fwd).Status)
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup/resend", map[string]string{"email": p.Email}, fwd).Status)
	bad := p.signup()
	bad["email"] = p.Email + "@@"
	require.Equal(t, 400, app.do("POST", "/api/brands/acme/signup", bad, fwd).Status)
	app.waitIdle()

	logs := app.logs.String()
	require.NotEmpty(t, logs)
	require.Contains(t, logs, `"route":"POST /api/brands/{brand}/signup"`, "requests are logged, by route pattern")
	secrets := map[string]string{
		"email": p.Email, "email local part": strings.Split(p.Email, "@")[0], "first name": p.First,
		"last name": p.Last, "password": p.Password, "token": token, "client ip": clientIP,
		"alias": "Quillfeather93", "customer id": "CUST-99817", "date of birth": "1991-04-23",
	}
	for line := range strings.Lines(logs) {
		for what, v := range secrets {
			require.NotContains(t, line, v, "a log line holds the %s", what)
		}
	}
}

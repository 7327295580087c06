package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/testenv"
)

// TestPageChecksFailWhereTheyShould runs the browser checks of TestPagesInABrowser against
// small pages made to pass or break each one, so that a check that can no longer fail is
// found: axe-core's violations must match exactly (fewer fail as more do), a page wider than
// 320 pixels fails, and so do a control that hides its focus and a tab order that leaves the
// document's.
func TestPageChecksFailWhereTheyShould(t *testing.T) {
	tools := testenv.Browser(t)
	axe, err := os.ReadFile(tools.Axe)
	require.NoError(t, err)

	const page = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Check</title><style>%s</style></head>
<body>%s</body></html>`
	pages := map[string]string{
		"/good":     fmt.Sprintf(page, "", `<main><h1>Fine</h1><p><a href="/good">Again</a></p><button>Go</button></main>`),
		"/no-main":  fmt.Sprintf(page, "", `<h1>No landmark</h1><button>Go</button>`),
		"/wide":     fmt.Sprintf(page, "", `<main><h1>Wide</h1><div style="width:400px">x</div></main>`),
		"/no-focus": fmt.Sprintf(page, "button:focus{outline:none}", `<main><h1>Hidden focus</h1><button>Go</button></main>`),
		"/order":    fmt.Sprintf(page, "", `<main><h1>Order</h1><button>First</button><button tabindex="1">Second</button></main>`),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)

	tab := startBrowser(t, tools.Chromium).open(t, "en")
	check := func(path string, want []string) string {
		t.Helper()
		require.EqualValues(t, 200, tab.visit(t, srv.URL+path))
		return failureOf(t, func(tb testing.TB) { tab.checkPage(tb, axe, want) })
	}

	require.Empty(t, check("/good", nil), "a page with a main landmark and visible focus passes")
	require.Contains(t, check("/no-main", nil), "landmark-one-main", "a violation not listed fails")
	require.Empty(t, check("/no-main", []string{"landmark-one-main", "region"}), "listed violations pass")
	require.Contains(t, check("/good", []string{"region"}), "axe-core's violations", "a listed violation gone fails")
	require.Contains(t, check("/wide", nil), "scrolls sideways")
	require.Contains(t, check("/no-focus", nil), "shows no focus")
	// axe-core flags a positive tabindex itself; the tab order check must find it alone too.
	require.Contains(t, check("/order", nil), `"tabindex"`)
	require.Contains(t, failureOf(t, tab.checkTabOrder), "focuses the wrong control")
}

// failureOf runs check with a testing.TB that records the first failure instead of ending
// the test, and returns its message ("" when check passed).
func failureOf(t *testing.T, check func(tb testing.TB)) string {
	r := &failureRecorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errCheckStopped {
				panic(p)
			}
		}()
		check(r)
	}()
	return r.msg
}

var errCheckStopped = fmt.Errorf("check stopped at its first failure")

type failureRecorder struct {
	testing.TB
	msg string
}

func (r *failureRecorder) Helper() {}
func (r *failureRecorder) Errorf(format string, args ...any) {
	if r.msg == "" {
		r.msg = fmt.Sprintf(format, args...)
	}
}
func (r *failureRecorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }
func (r *failureRecorder) FailNow()                          { panic(errCheckStopped) }

package azfunctest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
)

func TestHostSendsWhatTheFunctionsHostSends(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	host := azfunctest.NewHost(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		_ = azfunc.WriteResult(w, azfunc.Result{})
	}))

	res := host.Post("ProcessOrder", []byte(`{"Data":{},"Metadata":{}}`))
	require.NoError(t, res.Err())

	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/ProcessOrder", got.URL.Path)
	assert.Equal(t, []string{"chunked"}, got.TransferEncoding)
	assert.Equal(t, int64(-1), got.ContentLength)
	assert.Equal(t, "application/json; charset=utf-8", got.Header.Get("Content-Type"))
	assert.Equal(t, azfunctest.HostVersion, got.Header.Get("X-Azure-Functions-HostVersion"))
	assert.Regexp(t, `^Azure-Functions-Host/`, got.Header.Get("User-Agent"))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, got.Header.Get("X-Azure-Functions-InvocationId"))
	assert.JSONEq(t, `{"Data":{},"Metadata":{}}`, string(gotBody))
}

func TestInvokeAddsSys(t *testing.T) {
	var meta map[string]json.RawMessage
	host := azfunctest.NewHost(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inv, err := azfunc.DecodeInvocation(r)
		if err != nil {
			azfunc.WriteFailure(w, http.StatusBadRequest)
			return
		}
		meta = inv.Metadata
		_ = azfunc.WriteResult(w, azfunc.Result{})
	}))
	require.NoError(t, host.Invoke("RetentionSweep", azfunctest.Envelope{}).Err())

	var sys struct{ MethodName, UtcNow, RandGuid string }
	require.NoError(t, json.Unmarshal(meta["sys"], &sys))
	assert.Equal(t, "RetentionSweep", sys.MethodName)
	assert.NotEmpty(t, sys.UtcNow)
	assert.NotEmpty(t, sys.RandGuid)
}

// TestJudge replays testdata/response-examples.json, whose cases say what
// the host does with each answer.
func TestJudge(t *testing.T) {
	data, err := os.ReadFile("../testdata/response-examples.json")
	require.NoError(t, err)
	var doc struct {
		Cases []struct {
			Name     string
			Status   int
			Headers  map[string]string
			Body     json.RawMessage
			BodyText *string
		}
	}
	require.NoError(t, json.Unmarshal(data, &doc))

	succeeds := map[string]bool{
		"timer-success": true,
		"servicebus-success-with-servicebus-output":   true,
		"servicebus-output-multiple-messages":         true,
		"http-payload-mode-res-and-servicebus-output": true,
		"http-return-binding":                         true,
		"handler-error-500":                           false,
		"invalid-content-type":                        false,
		"empty-200":                                   false,
	}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Name == "forwarded-http-response" {
				t.Skip("a forwarded HTTP response is passed through, not judged")
			}
			want, ok := succeeds[c.Name]
			require.Truef(t, ok, "no verdict for example %q", c.Name)

			header := http.Header{}
			for k, v := range c.Headers {
				header.Set(k, v)
			}
			body := []byte(c.Body)
			if c.BodyText != nil {
				body = []byte(*c.BodyText)
			}
			res := azfunctest.Judge(c.Status, header, body)
			if want {
				assert.NoError(t, res.Err())
			} else {
				assert.Error(t, res.Err())
			}
		})
	}

	t.Run("output decodes", func(t *testing.T) {
		res := azfunctest.Judge(http.StatusOK, http.Header{"Content-Type": {"application/json"}},
			[]byte(`{"Outputs":{"outMsg":{"orderId":"A-1001"}},"Logs":["ok"],"ReturnValue":null}`))
		require.NoError(t, res.Err())
		var out struct{ OrderID string }
		require.NoError(t, res.Output("outMsg", &out))
		assert.Equal(t, "A-1001", out.OrderID)
		assert.Equal(t, []string{"ok"}, res.Logs)
		assert.Error(t, res.Output("missing", &out))
	})

	t.Run("text/json is a json type too", func(t *testing.T) {
		res := azfunctest.Judge(http.StatusOK, http.Header{"Content-Type": {"text/json; charset=utf-8"}}, []byte(`{}`))
		assert.NoError(t, res.Err())
	})

	t.Run("null body fails", func(t *testing.T) {
		res := azfunctest.Judge(http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(`null`))
		assert.Error(t, res.Err())
	})
}

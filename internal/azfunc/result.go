package azfunc

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Result is the answer to a successful invocation.
type Result struct {
	// Outputs maps output binding names to values. A JSON array sends one
	// message per element; prefer objects for single messages, because
	// the host base64-decodes plain strings that happen to be valid base64.
	Outputs map[string]any `json:"Outputs"`
	// Logs are written by the host at Information level under the
	// function's category. They reach Application Insights: no personal
	// data here.
	Logs []string `json:"Logs"`
	// ReturnValue feeds an output binding named $return, if any.
	ReturnValue any `json:"ReturnValue"`
}

// WriteResult answers 200 with the JSON content type the host insists on:
// without it the host's formatter cannot read the body, and Go would sniff
// it as text/plain. Outputs and Logs are sent as {} and [] rather than null
// so every consumer sees the same shape. If the result cannot be encoded,
// the invocation is failed with a 500 instead and the error returned.
func WriteResult(w http.ResponseWriter, res Result) error {
	if res.Outputs == nil {
		res.Outputs = map[string]any{}
	}
	if res.Logs == nil {
		res.Logs = []string{}
	}
	body, err := json.Marshal(res)
	if err != nil {
		WriteFailure(w, http.StatusInternalServerError)
		return fmt.Errorf("azfunc: encode result: %w", err)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// WriteFailure fails the invocation so the host tries again: Service Bus
// abandons and later redelivers the message, a timer's retry policy kicks in.
// The host reads nothing of a failed response, so log elsewhere (stdout).
// A status outside 4xx–5xx would not fail the invocation (or, for 3xx, be
// followed as a redirect) and is sent as 500 instead.
func WriteFailure(w http.ResponseWriter, status int) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, []byte(`{"Outputs":{},"Logs":[],"ReturnValue":null}`))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

package httpapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// oneClickBody is the whole body of an RFC 8058 one-click unsubscribe POST.
const oneClickBody = "List-Unsubscribe=One-Click"

// decodeOneClick reads a POST to a mail's List-Unsubscribe URL (RFC 8058 §3.2): a
// form-encoded body naming List-Unsubscribe=One-Click, the token in the URL's query. ok is
// false for any other POST to the same path (the unsubscribe page's form, JSON), which is
// answered as before; err refuses a one-click POST that names no usable token.
func decodeOneClick(contentType string, query url.Values, body []byte) (token string, ok bool, err error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
		return "", false, nil
	}
	if mt == "multipart/form-data" {
		// RFC 8058 allows it; the key and value still appear whole in the body.
		if !bytes.Contains(body, []byte(`name="List-Unsubscribe"`)) || !bytes.Contains(body, []byte("One-Click")) {
			return "", false, nil
		}
	} else {
		form, perr := url.ParseQuery(string(body))
		if perr != nil || form.Get("List-Unsubscribe") != "One-Click" {
			return "", false, nil
		}
	}
	tokens := query["token"]
	if len(tokens) != 1 || tokens[0] == "" {
		return "", true, &httpError{http.StatusBadRequest, "invalid", "the one-click URL must carry one token"}
	}
	return tokens[0], true, nil
}

// unsubscribePost takes both POSTs to the unsubscribe URL: a mail provider's one-click
// unsubscribe (RFC 8058), answered without a page, and the page's own answer.
func (a *api) unsubscribePost() http.HandlerFunc {
	page := a.takeAnswer(a.unsubscribeAnswers())
	return func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.Query().Has("token") {
			page(w, r)
			return
		}
		body, err := readBody(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		token, ok, err := decodeOneClick(r.Header.Get("Content-Type"), r.URL.Query(), body)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if !ok {
			r.Body = io.NopCloser(bytes.NewReader(body)) // read once already; the page reads it again
			page(w, r)
			return
		}
		if err := a.contacts.OneClickUnsubscribe(r.Context(), brandParam(r), token); err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "unsubscribed", "answer": "this_member"})
	}
}

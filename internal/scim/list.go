package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Paging defaults. MaxCount is also filter.maxResults in ServiceProviderConfig.
const (
	DefaultCount = 100
	MaxCount     = 1000
)

// ListResponse is the answer to GET /Users and POST /Users/.search (RFC 7644 §3.4.2): one
// page of results. itemsPerPage is len(Resources), so it cannot disagree with the page.
// Resources is always written, as [] when empty: Okta and Entra ID expect 200 with
// "totalResults":0 and an empty list when a filter finds nobody.
type ListResponse struct {
	TotalResults int               // matches in all pages, or as many as a scan stopped early could tell
	StartIndex   int               // 1-based index of Resources[0] among them
	Resources    []json.RawMessage // each a User, e.g. from User.JSON
}

// MarshalJSON renders the ListResponse message.
func (l ListResponse) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"schemas":["` + URNListResponse + `"],"totalResults":`)
	b.WriteString(strconv.Itoa(l.TotalResults))
	b.WriteString(`,"startIndex":`)
	b.WriteString(strconv.Itoa(max(l.StartIndex, 1)))
	b.WriteString(`,"itemsPerPage":`)
	b.WriteString(strconv.Itoa(len(l.Resources)))
	b.WriteString(`,"Resources":[`)
	for i, r := range l.Resources {
		if i > 0 {
			b.WriteByte(',')
		}
		if !json.Valid(r) {
			return nil, errors.New("scim: a ListResponse resource is not valid JSON")
		}
		b.Write(r)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// Query is a list request: GET /Users?... (ParseQuery) or POST /Users/.search
// (DecodeSearchRequest). sortBy and sortOrder are ignored: ServiceProviderConfig says sort is
// not supported, and RFC 7644 §3.4.2.3 makes sorting optional.
type Query struct {
	Filter             Filter // zero when the request has none: every user
	StartIndex         int    // 1-based, at least 1
	Count              int    // 0..MaxCount; 0 asks for totalResults only
	Attributes         []string
	ExcludedAttributes []string
}

// Page returns the bounds of the requested page within total results, for slicing:
// results[lo:hi]. The ListResponse's StartIndex is q.StartIndex.
func (q Query) Page(total int) (lo, hi int) {
	lo = min(max(q.StartIndex, 1)-1, total)
	hi = lo + min(q.Count, total-lo)
	return lo, hi
}

// ParsePaging reads startIndex and count (RFC 7644 §3.4.2.4): startIndex is 1-based and a
// value below 1 means 1; count defaults to DefaultCount, a negative value means 0 and one
// above MaxCount means MaxCount (the RFC lets the service return fewer than asked). A value
// that is not an integer is a 400 invalidValue.
func ParsePaging(q url.Values) (startIndex, count int, err error) {
	startIndex, count = 1, DefaultCount
	if s, ok, err := param(q, "startIndex"); err != nil {
		return 0, 0, err
	} else if ok {
		n, err := parseInt(s)
		if err != nil {
			return 0, 0, err
		}
		startIndex = clampStart(n)
	}
	if s, ok, err := param(q, "count"); err != nil {
		return 0, 0, err
	} else if ok {
		n, err := parseInt(s)
		if err != nil {
			return 0, 0, err
		}
		count = clampCount(n)
	}
	return startIndex, count, nil
}

// ParseQuery reads the query parameters of GET /Users (RFC 7644 §3.4.2): filter,
// startIndex, count, attributes and excludedAttributes (comma-separated, §3.9). Parameter
// names are matched case-insensitively; a parameter given twice is refused, since two
// filters would leave the choice to a guess. An empty filter is no filter.
func ParseQuery(q url.Values) (Query, error) {
	var out Query
	var err error
	if out.StartIndex, out.Count, err = ParsePaging(q); err != nil {
		return Query{}, err
	}
	s, ok, perr := param(q, "filter")
	if perr != nil {
		return Query{}, perr
	}
	if ok && strings.TrimSpace(s) != "" {
		if out.Filter, err = ParseFilter(s); err != nil {
			return Query{}, err
		}
	}
	for _, a := range []struct {
		name string
		dst  *[]string
	}{{"attributes", &out.Attributes}, {"excludedAttributes", &out.ExcludedAttributes}} {
		s, ok, perr := param(q, a.name)
		if perr != nil {
			return Query{}, perr
		}
		if ok {
			*a.dst = splitAttributes(s)
		}
	}
	return out, nil
}

// DecodeSearchRequest reads the body of POST /Users/.search (RFC 7644 §3.4.3), a
// SearchRequest message: filter, startIndex, count, attributes and excludedAttributes, with
// the same rules as the query parameters. "schemas", when present, must list the
// SearchRequest URN. attributes may be an array or one comma-separated string; startIndex
// and count may be numbers or numeric strings.
func DecodeSearchRequest(body []byte) (Query, error) {
	q := Query{StartIndex: 1, Count: DefaultCount}
	if err := validBody(body); err != nil {
		return Query{}, err
	}
	ms, ok, err := members(body)
	if err != nil {
		return Query{}, err
	}
	if !ok {
		return Query{}, badRequest(ScimTypeInvalidSyntax, msgBodyNotObject)
	}
	for _, m := range ms {
		if isNull(m.value) {
			continue
		}
		switch strings.ToLower(m.name) {
		case "schemas":
			ss, err := decodeSchemas(m.value)
			if err != nil {
				return Query{}, err
			}
			if !containsFold(ss, URNSearchRequest) {
				return Query{}, badRequest(ScimTypeInvalidSyntax, msgSchemasNoSearch)
			}
		case "filter":
			var s string
			if json.Unmarshal(m.value, &s) != nil {
				return Query{}, badRequest(ScimTypeInvalidValue, msgSearchField)
			}
			if strings.TrimSpace(s) == "" {
				continue // as in ParseQuery: an empty filter is no filter
			}
			if q.Filter, err = parseFilterErr(s); err != nil {
				return Query{}, err
			}
		case "startindex", "count":
			n, err := jsonInt(m.value)
			if err != nil {
				return Query{}, err
			}
			if strings.EqualFold(m.name, "startIndex") {
				q.StartIndex = clampStart(n)
			} else {
				q.Count = clampCount(n)
			}
		case "attributes", "excludedattributes":
			list, err := attributeList(m.value)
			if err != nil {
				return Query{}, err
			}
			if strings.EqualFold(m.name, "attributes") {
				q.Attributes = list
			} else {
				q.ExcludedAttributes = list
			}
		}
	}
	return q, nil
}

func parseFilterErr(s string) (Filter, *Error) {
	f, err := ParseFilter(s)
	if err != nil {
		return Filter{}, err.(*Error)
	}
	return f, nil
}

// param finds a query parameter by name, in any case.
func param(q url.Values, name string) (string, bool, *Error) {
	var vals []string
	for k, vs := range q {
		if strings.EqualFold(k, name) {
			vals = append(vals, vs...)
		}
	}
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
		return vals[0], true, nil
	}
	return "", false, badRequest(ScimTypeInvalidValue, msgParamRepeated)
}

// parseInt reads an integer, saturating at the int range: an absurd startIndex is simply
// past the end.
func parseInt(s string) (int, *Error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(strings.TrimSpace(s), "-") {
				return math.MinInt, nil
			}
			return math.MaxInt, nil
		}
		return 0, badRequest(ScimTypeInvalidValue, msgParamInteger)
	}
	return int(n), nil
}

func jsonInt(raw json.RawMessage) (int, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, badRequest(ScimTypeInvalidValue, msgSearchField)
		}
		return parseInt(s)
	}
	return parseInt(string(raw))
}

func clampStart(n int) int { return max(n, 1) }

func clampCount(n int) int { return min(max(n, 0), MaxCount) }

// splitAttributes splits a comma-separated attribute list (RFC 7644 §3.9).
func splitAttributes(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func attributeList(raw json.RawMessage) ([]string, *Error) {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, a := range list {
			out = append(out, splitAttributes(a)...)
		}
		return out, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return splitAttributes(s), nil
	}
	return nil, badRequest(ScimTypeInvalidValue, msgAttributesList)
}

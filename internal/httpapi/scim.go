package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/scim"
)

// The SCIM 2.0 service of each brand, under /api/brands/{brand}/scim/v2 (RFC 7643/7644, issue
// #12). Identity providers (Entra ID, Okta) provision through it; every call maps onto the
// same ProvisioningService as the signed webhooks, so both paths behave alike. The brand's
// SCIM bearer token authenticates every call; its digest is in the brand's settings.
//
// The mapping: userName is the member's external id (keyed in lower case, as userName is not
// case-exact, RFC 7643 §2.2, §4.1.1; given back as sent), externalId the provider's own id,
// name.givenName and name.familyName the first and last names, name.formatted and
// displayName kept as sent (displayName derived from the names when never sent), nickName
// the alias, the primary email the address, the primary address the postal address, active
// the account's status (false: blocked for erasure after the grace period, still readable
// until then).

func (a *api) scimRoutes() []route {
	const base = "/api/brands/{brand}/scim/v2"
	routes := []route{
		{"GET " + base + "/ServiceProviderConfig", false, a.scim(a.scimDocument(scim.ServiceProviderConfig))},
		{"GET " + base + "/ResourceTypes", false, a.scim(a.scimDocument(scim.ResourceTypes))},
		{"GET " + base + "/ResourceTypes/{name}", false, a.scim(a.scimNamedDocument("name", scim.ResourceType))},
		{"GET " + base + "/Schemas", false, a.scim(a.scimDocument(scim.Schemas))},
		{"GET " + base + "/Schemas/{id}", false, a.scim(a.scimNamedDocument("id", scim.Schema))},
		{"GET " + base + "/Users", false, a.scim(a.scimListUsers)},
		{"POST " + base + "/Users/.search", false, a.scim(a.scimSearchUsers)},
		{"POST " + base + "/Users", false, a.scim(a.scimCreateUser)},
		{"GET " + base + "/Users/{id}", false, a.scim(a.scimGetUser)},
		{"PUT " + base + "/Users/{id}", false, a.scim(a.scimReplaceUser)},
		{"PATCH " + base + "/Users/{id}", false, a.scim(a.scimPatchUser)},
		{"DELETE " + base + "/Users/{id}", false, a.scim(a.scimDeleteUser)},
	}
	// Identity providers' connectors append a slash to a base URL entered with one
	// ("…/Users/?filter=…"): each endpoint answers with a trailing slash as without.
	for _, rt := range routes[:len(routes):len(routes)] {
		routes = append(routes, route{rt.pattern + "/{$}", rt.admin, rt.handler})
	}
	return append(routes, route{base + "/", false, a.scim(func(w http.ResponseWriter, r *http.Request) { scim.WriteError(w, scim.NotFound()) })})
}

// scim authenticates the brand's bearer token before anything else, and answers SCIM errors.
func (a *api) scim(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, _ := bearerToken(r) // no token: refused below, as a wrong one
		if err := a.provisioning.AuthenticateSCIM(r.Context(), brandParam(r), token); err != nil {
			if gdpr.ErrorCode(err) == gdpr.CodeUnauthenticated {
				w.Header().Set("WWW-Authenticate", `Bearer realm="popsell-gdpr scim"`)
				scim.WriteError(w, scim.Unauthorized())
				return
			}
			a.scimFail(w, r, err)
			return
		}
		next(w, r)
	}
}

// scimBase is the brand's SCIM base URL, for meta.location and the discovery documents.
func (a *api) scimBase(r *http.Request) string {
	return strings.TrimRight(a.baseURL, "/") + "/api/brands/" + url.PathEscape(string(brandParam(r))) + "/scim/v2"
}

// scimDocument serves a discovery document of the brand's SCIM service.
func (a *api) scimDocument(doc func(baseURL string) []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scim.WriteJSON(w, http.StatusOK, doc(a.scimBase(r)))
	}
}

// scimNamedDocument serves one resource type or schema by the name in the path; 404 for an
// unknown one.
func (a *api) scimNamedDocument(param string, doc func(baseURL, name string) ([]byte, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := doc(a.scimBase(r), r.PathValue(param))
		if !ok {
			scim.WriteError(w, scim.NotFound())
			return
		}
		scim.WriteJSON(w, http.StatusOK, body)
	}
}

// scimVisible reports a provisioned user that SCIM still shows: not erased, and not deleted
// (a deactivated user stays readable with active false until its erasure, as Okta expects).
func scimVisible(u gdpr.User) bool {
	return u.Status != gdpr.UserErased && !(u.Status == gdpr.UserBlocked && u.Block != nil && u.Block.Reason == gdpr.ReasonSSODeleted)
}

// toSCIM renders a member as a SCIM User; a displayName never sent is derived from the names.
func (a *api) toSCIM(r *http.Request, u gdpr.User) scim.User {
	s := a.storedSCIM(r, u)
	if s.DisplayName == "" {
		s.DisplayName = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	return s
}

// storedSCIM renders a member as stored, nothing derived: what a PATCH applies to, so that a
// derived value is never written back as if it had been sent.
func (a *api) storedSCIM(r *http.Request, u gdpr.User) scim.User {
	userName := u.ExternalID
	if u.UserName != "" {
		userName = u.UserName
	}
	s := scim.User{
		ID: u.ID, ExternalID: u.IdPExternalID, UserName: userName,
		Name:        scim.Name{GivenName: u.FirstName, FamilyName: u.LastName, Formatted: u.FormattedName},
		DisplayName: u.DisplayName, NickName: u.Alias, Title: u.Title,
		PreferredLanguage: u.Language,
		Active:            scim.Bool(u.Status != gdpr.UserBlocked),
		Meta: scim.Meta{Created: u.CreatedAt, LastModified: latestOf(u.CreatedAt, u.SSOEventAt),
			Location: scim.Location(a.scimBase(r), u.ID), Version: u.Version},
	}
	if addr := u.Email + u.EmailTmp; addr != "" {
		s.Emails = []scim.Email{{Value: addr, Type: "work", Primary: true}}
	}
	if ad := u.Address; ad != (gdpr.Address{}) {
		s.Addresses = []scim.Address{{StreetAddress: ad.Street, Locality: ad.City, PostalCode: ad.PostalCode, Country: ad.Country, Type: "work", Primary: true}}
	}
	return s
}

// fromSCIM overlays a SCIM User onto the member's profile: what SCIM does not carry (role,
// customer id, date of birth, position) is kept as it is.
func fromSCIM(base gdpr.ProvisionedUser, s scim.User) gdpr.ProvisionedUser {
	p := base
	userName := strings.TrimSpace(s.UserName)
	p.ExternalID, p.UserName, p.IdPExternalID = strings.ToLower(userName), userName, s.ExternalID
	p.Email = s.PrimaryEmail()
	p.FirstName, p.LastName, p.Alias, p.Title, p.Language = s.Name.GivenName, s.Name.FamilyName, s.NickName, s.Title, s.PreferredLanguage
	p.DisplayName, p.FormattedName = s.DisplayName, s.Name.Formatted
	p.Address = gdpr.Address{}
	for i, ad := range s.Addresses {
		if i == 0 || ad.Primary {
			p.Address = gdpr.Address{Street: ad.StreetAddress, City: ad.Locality, PostalCode: ad.PostalCode, Country: ad.Country}
		}
	}
	return p
}

// profileOf is a member's current profile, as provisioning takes it.
func profileOf(u gdpr.User) gdpr.ProvisionedUser {
	role := u.Role
	return gdpr.ProvisionedUser{ExternalID: u.ExternalID, UserName: u.UserName, IdPExternalID: u.IdPExternalID, Email: u.Email + u.EmailTmp,
		FirstName: u.FirstName, LastName: u.LastName, DisplayName: u.DisplayName, FormattedName: u.FormattedName, Alias: u.Alias, Title: u.Title, Position: u.Position,
		CustomerID: u.CustomerID, Language: u.Language, Role: &role, DateOfBirth: u.DateOfBirth, Address: u.Address}
}

func (a *api) scimCreateUser(w http.ResponseWriter, r *http.Request) {
	s, ok := scimDecode(a, w, r, scim.DecodeUser)
	if !ok {
		return
	}
	p := fromSCIM(gdpr.ProvisionedUser{}, s)
	// RFC 7644 §3.3: a taken userName is 409 uniqueness, also for the losers of a race. A user
	// deleted and not yet erased takes no part in it (RFC 7644 §3.6): the create restores it
	// with the attributes posted, keeping what SCIM does not carry (its role...).
	res, err := a.provisioning.Upsert(r.Context(), brandParam(r), p, gdpr.ProvisionOptions{Active: s.Active, CreateOnly: true, KeepUncarried: true})
	if err != nil {
		a.scimFail(w, r, err)
		return
	}
	scim.WriteUser(w, http.StatusCreated, a.toSCIM(r, res.User), nil, nil)
}

// scimUser loads the user a path names, answering 404 for one SCIM no longer shows.
func (a *api) scimUser(w http.ResponseWriter, r *http.Request) (gdpr.User, bool) {
	u, err := a.provisioning.Get(r.Context(), brandParam(r), r.PathValue("id"))
	if err == nil && !scimVisible(u) {
		err = gdpr.Errorf(gdpr.CodeNotFound, "unknown user")
	}
	if err != nil {
		a.scimFail(w, r, err)
		return gdpr.User{}, false
	}
	if h := r.Header.Get("If-Match"); h != "" && !scim.MatchETag(h, u.Version) {
		scim.WriteError(w, scim.PreconditionFailed())
		return gdpr.User{}, false
	}
	return u, true
}

func (a *api) scimGetUser(w http.ResponseWriter, r *http.Request) {
	q, err := scim.ParseQuery(r.URL.Query())
	if err != nil {
		scim.WriteError(w, err)
		return
	}
	u, ok := a.scimUser(w, r)
	if !ok {
		return
	}
	if h := r.Header.Get("If-None-Match"); h != "" && scim.MatchETag(h, u.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	scim.WriteUser(w, http.StatusOK, a.toSCIM(r, u), q.Attributes, q.ExcludedAttributes)
}

// scimUserAndBody loads the user a PUT or PATCH names, then reads and decodes its body.
func scimUserAndBody[T any](a *api, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, error)) (gdpr.User, T, bool) {
	u, ok := a.scimUser(w, r)
	if !ok {
		var zero T
		return gdpr.User{}, zero, false
	}
	v, ok := scimDecode(a, w, r, decode)
	return u, v, ok
}

func (a *api) scimReplaceUser(w http.ResponseWriter, r *http.Request) {
	u, s, ok := scimUserAndBody(a, w, r, scim.DecodeUser)
	if !ok {
		return
	}
	a.scimApply(w, r, u, s)
}

func (a *api) scimPatchUser(w http.ResponseWriter, r *http.Request) {
	u, ops, ok := scimUserAndBody(a, w, r, scim.DecodePatch)
	if !ok {
		return
	}
	current := a.storedSCIM(r, u)
	patched := current
	if err := scim.ApplyPatch(&patched, ops); err != nil {
		scim.WriteError(w, err)
		return
	}
	if patched.Equal(current) {
		// Nothing to change: no write, the same version (RFC 7644 §3.5.2.1).
		scim.WriteUser(w, http.StatusOK, a.toSCIM(r, u), nil, nil)
		return
	}
	a.scimApply(w, r, u, patched)
}

// scimApply provisions the member u as the SCIM User s describes it, guarded by the version
// read: a change in between answers 412, as a stale If-Match would.
func (a *api) scimApply(w http.ResponseWriter, r *http.Request, u gdpr.User, s scim.User) {
	p := fromSCIM(profileOf(u), s)
	active := s.Active
	if active == nil {
		active = scim.Bool(u.Status != gdpr.UserBlocked)
	}
	res, err := a.provisioning.Upsert(r.Context(), brandParam(r), p, gdpr.ProvisionOptions{Active: active, MemberID: u.ID, IfVersion: u.Version})
	if err != nil {
		a.scimFail(w, r, err)
		return
	}
	scim.WriteUser(w, http.StatusOK, a.toSCIM(r, res.User), nil, nil)
}

func (a *api) scimDeleteUser(w http.ResponseWriter, r *http.Request) {
	u, ok := a.scimUser(w, r)
	if !ok {
		return
	}
	_, err := a.provisioning.Deprovision(r.Context(), brandParam(r), u.ExternalID, gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{IfVersion: u.Version})
	if err != nil {
		a.scimFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) scimListUsers(w http.ResponseWriter, r *http.Request) {
	q, err := scim.ParseQuery(r.URL.Query())
	if err != nil {
		scim.WriteError(w, err)
		return
	}
	a.scimList(w, r, q)
}

func (a *api) scimSearchUsers(w http.ResponseWriter, r *http.Request) {
	if q, ok := scimDecode(a, w, r, scim.DecodeSearchRequest); ok {
		a.scimList(w, r, q)
	}
}

// scimList answers a query (RFC 7644 §3.4.2) with bounded work (issue #24, finding 5). A
// filter whose matches all hold an equality on userName, externalId, emails.value or id —
// what Entra ID and Okta send before they create a user — reads the users those equalities
// find through indexes, a few documents whatever the brand's size. Any other filter, or none,
// reads the brand's users page by page in id order and stops once the requested page is
// filled, reading at most scimScanBudget documents: past it, 400 tooMany (RFC 7644 §3.12).
func (a *api) scimList(w http.ResponseWriter, r *http.Request, q scim.Query) {
	var res scimResult
	var err error
	if keys, ok := q.Filter.IndexKeys(); ok {
		res, err = a.scimIndexed(r, q, keys)
	} else {
		res, err = a.scimScan(r, q)
	}
	if se := (*scim.Error)(nil); errors.As(err, &se) {
		scim.WriteError(w, se)
		return
	}
	if err != nil {
		a.scimFail(w, r, err)
		return
	}
	list := scim.ListResponse{TotalResults: res.total, StartIndex: q.StartIndex}
	for _, s := range res.page {
		b, err := s.JSON(q.Attributes, q.ExcludedAttributes)
		if err != nil {
			a.scimFail(w, r, err)
			return
		}
		list.Resources = append(list.Resources, b)
	}
	body, err := list.MarshalJSON()
	if err != nil {
		a.scimFail(w, r, err)
		return
	}
	scim.WriteJSON(w, http.StatusOK, body)
}

// scimResult is the page a query asked for, and its totalResults.
type scimResult struct {
	page  []scim.User
	total int
}

// scimScanBudget is how many user documents one SCIM list request may read when its filter
// has no index key: a constant, so that the work of a request stays bounded whatever the
// brand's size. A brand with more users is searched through the indexed filters, or listed
// in pages that fill within the budget.
const scimScanBudget = 10_000

// scimListPage is how many users a scan reads at a time, at most; scimListMinPage at least.
const (
	scimListPage    = 1000
	scimListMinPage = 100
)

// scimIndexed answers a filter through the users its index keys find: each key is a point
// read or two (an indexed query for externalId), and Match keeps the users that satisfy the
// whole filter. totalResults is exact.
func (a *api) scimIndexed(r *http.Request, q scim.Query, keys []scim.IndexKey) (scimResult, error) {
	brand := brandParam(r)
	seen := map[string]bool{}
	var matches []scim.User
	for _, k := range keys {
		for _, l := range scimLookups(k) {
			users, err := a.provisioning.FindProvisioned(r.Context(), brand, l.key, l.value, scim.MaxCount)
			if err != nil {
				return scimResult{}, err
			}
			for _, u := range users {
				if seen[u.ID] || !scimVisible(u) {
					continue
				}
				seen[u.ID] = true
				if s := a.toSCIM(r, u); q.Filter.Match(s) {
					matches = append(matches, s)
				}
			}
		}
	}
	slices.SortFunc(matches, func(x, y scim.User) int { return strings.Compare(x.ID, y.ID) })
	lo, hi := q.Page(len(matches))
	return scimResult{page: matches[lo:hi], total: len(matches)}, nil
}

// scimLookup is one index read.
type scimLookup struct {
	key   gdpr.ProvisionedKey
	value string
}

// scimLookups are the index reads that find every user holding k.
func scimLookups(k scim.IndexKey) []scimLookup {
	switch k.Attr {
	case "id":
		return []scimLookup{{gdpr.KeyMemberID, k.Value}}
	case "externalId":
		return []scimLookup{{gdpr.KeyIdPExternalID, k.Value}}
	case "emails.value":
		return []scimLookup{{gdpr.KeyEmail, k.Value}}
	case "userName":
		// SCIM keeps userName in lower case; a webhook may have provisioned it as sent.
		folded, given := strings.ToLower(strings.TrimSpace(k.Value)), strings.TrimSpace(k.Value)
		if given != folded {
			return []scimLookup{{gdpr.KeyExternalID, folded}, {gdpr.KeyExternalID, given}}
		}
		return []scimLookup{{gdpr.KeyExternalID, folded}}
	}
	return nil
}

// scimScan answers a filter without index keys, or no filter, by reading the brand's users
// in id order. It stops as soon as the requested page is filled (count 0 asks for
// totalResults alone, so it reads on to the end). totalResults is exact when the scan reached
// the last user; a scan stopped early counts the matches among the users it read and, when
// none beyond the page was seen, one more, so that a client paging by totalResults asks for
// the next page. Reading more than scimScanBudget documents answers tooMany.
func (a *api) scimScan(r *http.Request, q scim.Query) (scimResult, error) {
	skip := min(q.StartIndex-1, scimScanBudget) // no more can match within the budget
	want := skip + q.Count                      // matches needed to fill the page
	var page []scim.User
	matched, read, after := 0, 0, ""
	size := min(max(scimListMinPage, want+1), scimListPage) // from what the page needs, doubling
	if q.Count == 0 {
		size = scimListPage
	}
	for ; ; size = min(2*size, scimListPage) {
		if q.Count > 0 && matched >= want {
			total := matched
			if total == want {
				total++ // more may follow: the brand's users were not all read
			}
			return scimResult{page: page, total: total}, nil
		}
		if read >= scimScanBudget {
			return scimResult{}, scim.TooMany()
		}
		limit := min(size, scimScanBudget-read)
		p, err := a.provisioning.ScanProvisioned(r.Context(), brandParam(r), after, limit)
		if err != nil {
			return scimResult{}, err
		}
		read += p.Read
		for _, u := range p.Users {
			if !scimVisible(u) {
				continue
			}
			s := a.toSCIM(r, u)
			if !q.Filter.Match(s) {
				continue
			}
			matched++
			if matched > skip && len(page) < q.Count {
				page = append(page, s)
			}
		}
		if p.Next == "" {
			return scimResult{page: page, total: matched}, nil
		}
		after = p.Next
	}
}

// scimBody reads a request body of an acceptable media type.
func (a *api) scimBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !scim.AcceptableContentType(r) {
		scim.WriteError(w, scim.UnsupportedMediaType())
		return nil, false
	}
	body, err := readBody(r)
	var he *httpError
	switch {
	case errors.As(err, &he) && he.status == http.StatusRequestEntityTooLarge:
		scim.WriteError(w, scim.PayloadTooLarge())
		return nil, false
	case err != nil:
		scim.WriteError(w, scim.NewError(http.StatusBadRequest, "invalidSyntax", "the request body could not be read"))
		return nil, false
	}
	return body, true
}

// scimDecode reads a request's SCIM body and decodes it, answering any failure as SCIM does.
func scimDecode[T any](a *api, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, error)) (T, bool) {
	var zero T
	body, ok := a.scimBody(w, r)
	if !ok {
		return zero, false
	}
	v, err := decode(body)
	if err != nil {
		scim.WriteError(w, err)
		return zero, false
	}
	return v, true
}

// scimFail answers a domain error as SCIM does.
func (a *api) scimFail(w http.ResponseWriter, r *http.Request, err error) {
	switch gdpr.ErrorCode(err) {
	case gdpr.CodeNotFound:
		scim.WriteError(w, scim.NotFound())
	case gdpr.CodeInvalid:
		scim.WriteError(w, scim.NewError(http.StatusBadRequest, "invalidValue", messageOf(err)))
	case gdpr.CodeConflict:
		if gdpr.AddressTaken(err) {
			scim.WriteError(w, scim.EmailUniqueness())
			return
		}
		scim.WriteError(w, scim.Uniqueness())
	case gdpr.CodePrecondition:
		scim.WriteError(w, scim.PreconditionFailed())
	case gdpr.CodeForbidden:
		scim.WriteError(w, scim.NewError(http.StatusForbidden, "", messageOf(err)))
	case gdpr.CodeUnavailable:
		w.Header().Set("Retry-After", "1")
		scim.WriteError(w, scim.NewError(http.StatusServiceUnavailable, "", "try again in a moment"))
	default:
		a.log.ErrorContext(r.Context(), "scim request failed", "route", r.Pattern, "err", err)
		scim.WriteError(w, scim.Internal())
	}
}

// latestOf is the later of two instants.
func latestOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

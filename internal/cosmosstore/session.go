package cosmosstore

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// Read-your-writes. Under Session consistency (the account default), a read sees this
// client's earlier writes only if it carries the session token those writes returned:
// without one, a replica that has not applied a write yet may answer — the erasure worker
// reading a user it just blocked would see it unblocked, a confirmation would miss the token
// just stored. The .NET and Java SDKs keep session tokens by themselves; azcosmos v1.5.0
// only returns them (ItemResponse.SessionToken, TransactionalBatchResponse.SessionToken, the
// x-ms-session-token header of queries) and sends what it is given (ItemOptions.SessionToken,
// QueryOptions.SessionToken). So the Store keeps them: each container records the token of
// every response and sends the merged token on every read and query.
//
// This holds within one process. Another instance of the Function App has its own tokens and
// may read a replica behind this one's writes; only a stronger account consistency (Bounded
// staleness or Strong) closes that gap.

// container is a container client with the session state of this Store's calls on it.
type container struct {
	*azcosmos.ContainerClient
	session sessionToken
}

// sessionToken merges the session tokens of one container's responses, by partition key
// range. A token header is a comma-separated list of "<range id>:<vector token>"; the vector
// token is "<version>#<global LSN>" followed by "#<region id>=<local LSN>" per region of a
// multi-region account (older services send a bare LSN). It is safe for concurrent use.
type sessionToken struct {
	mu     sync.Mutex
	ranges map[string]vectorToken
	header string // the merged token, formatted once per change
}

// observe merges the token of a response ("" when it carried none).
func (s *sessionToken) observe(header string) {
	if header == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for part := range strings.SplitSeq(header, ",") {
		rangeID, raw, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || rangeID == "" || raw == "" {
			continue // not a token this code understands: send nothing wrong rather than guess
		}
		next := parseVectorToken(raw)
		if s.ranges == nil {
			s.ranges = map[string]vectorToken{}
		}
		if prev, ok := s.ranges[rangeID]; ok {
			next = prev.merge(next)
		}
		if s.ranges[rangeID].raw != next.raw {
			s.ranges[rangeID] = next
			changed = true
		}
	}
	if changed {
		parts := make([]string, 0, len(s.ranges))
		for _, id := range slices.Sorted(maps.Keys(s.ranges)) {
			parts = append(parts, id+":"+s.ranges[id].raw)
		}
		s.header = strings.Join(parts, ",")
	}
}

// get is the token to send on a read: nil before any response carried one. The service
// uses the entry of the partition key range the read goes to and ignores the others.
func (s *sessionToken) get() *string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.header == "" {
		return nil
	}
	h := s.header
	return &h
}

// vectorToken is the session state of one partition key range.
type vectorToken struct {
	raw     string
	ok      bool            // parsed; when false only raw is kept
	version int64           // bumped by topology changes (failover, region added)
	global  int64           // global LSN, or the bare LSN of an old-style token
	regions map[int64]int64 // local LSN by region id
}

func parseVectorToken(raw string) vectorToken {
	t := vectorToken{raw: raw}
	fields := strings.Split(raw, "#")
	if len(fields) == 1 { // old style: a bare LSN
		n, err := strconv.ParseInt(raw, 10, 64)
		t.global, t.ok, t.version = n, err == nil, -1
		return t
	}
	var err1, err2 error
	t.version, err1 = strconv.ParseInt(fields[0], 10, 64)
	t.global, err2 = strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil {
		return t
	}
	for _, f := range fields[2:] {
		id, lsn, ok := strings.Cut(f, "=")
		r, err1 := strconv.ParseInt(id, 10, 64)
		l, err2 := strconv.ParseInt(lsn, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return t
		}
		if t.regions == nil {
			t.regions = map[int64]int64{}
		}
		t.regions[r] = l
	}
	t.ok = true
	return t
}

// merge is the later of two states of the same range, as the Cosmos DB SDKs merge them: the
// higher version wins outright (its regions are the current ones); at the same version, the
// highest global LSN and, region by region, the highest local LSN. A token that does not parse
// gives way to the other; two that do not parse keep the newer.
func (t vectorToken) merge(u vectorToken) vectorToken {
	switch {
	case !u.ok:
		if t.ok {
			return t
		}
		return u
	case !t.ok:
		return u
	case t.version != u.version:
		if t.version > u.version {
			return t
		}
		return u
	}
	out := vectorToken{ok: true, version: t.version, global: max(t.global, u.global)}
	for _, regions := range []map[int64]int64{t.regions, u.regions} {
		for r, l := range regions {
			if out.regions == nil {
				out.regions = map[int64]int64{}
			}
			if cur, ok := out.regions[r]; !ok || l > cur {
				out.regions[r] = l
			}
		}
	}
	out.raw = out.format(strings.Contains(t.raw, "#"))
	return out
}

func (t vectorToken) format(vector bool) string {
	if !vector {
		return strconv.FormatInt(t.global, 10)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d#%d", t.version, t.global)
	for _, r := range slices.SortedFunc(maps.Keys(t.regions), cmp.Compare) {
		fmt.Fprintf(&b, "#%d=%d", r, t.regions[r])
	}
	return b.String()
}

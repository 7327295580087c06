package mailjet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/jsondepth"
)

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

const doiPayload = `{"kind":"double_opt_in","user_id":42}`

// What each Version-1 fixture must decode to, field by field (R-MAIL-1…5 read these).
var wantSingle = map[string]Event{
	"events-single-sent.json": {
		Type: EventSent, Time: unix(1717236000), MessageID: 576460752303424001,
		MessageGUID: "3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93", Email: "alice@example.com",
		CustomID: "doi-42", Payload: doiPayload,
	},
	"events-single-open.json": {
		Type: EventOpen, Time: unix(1717236300), MessageID: 576460752303424001,
		MessageGUID: "3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93", Email: "alice@example.com",
		CustomID: "doi-42", Payload: doiPayload,
	},
	"events-single-click.json": {
		Type: EventClick, Time: unix(1717236360), MessageID: 576460752303424001,
		MessageGUID: "3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93", Email: "alice@example.com",
		CustomID: "doi-42", Payload: doiPayload, URL: "https://app.example.org/confirm?token=abc123",
	},
	"events-single-bounce.json": {
		Type: EventBounce, Time: unix(1717236010), MessageID: 576460752303424002,
		MessageGUID: "9b1e7c20-4d3a-4f8e-a6b2-71c0d5e3f4a8", Email: "bob@example.net",
		CustomID: "invite-17", HardBounce: true, ErrorRelatedTo: "recipient", Error: "user unknown",
	},
	"events-single-blocked.json": {
		Type: EventBlocked, Time: unix(1717236020), MessageID: 576460752303424003,
		MessageGUID: "0d4f6a8b-2c1e-4b7d-8e9f-a1b2c3d4e5f6", Email: "bob@example.net",
		CustomID: "inactivity-warn-17", ErrorRelatedTo: "mailjet", Error: "preblocked",
	},
	"events-single-spam.json": {
		Type: EventSpam, Time: unix(1717322400), MessageID: 576460752303424004,
		MessageGUID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", Email: "carol@example.org",
		CustomID: "inactivity-warn-23", Source: "JMRPP",
	},
	"events-single-unsub.json": {
		Type: EventUnsub, Time: unix(1717322500), MessageID: 576460752303424005,
		MessageGUID: "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", Email: "dave@example.com",
		CustomID: "invite-31", ListID: 0,
	},
}

func TestDecodeEvents_R_MAIL_everySingleFixture(t *testing.T) {
	require.Len(t, wantSingle, len(singleEventFixtures))
	for _, name := range singleEventFixtures {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeEvents(fixture(t, name))
			require.NoError(t, err)
			require.Equal(t, []Event{wantSingle[name]}, got)
		})
	}
}

func TestDecodeEvents_R_MAIL_groupedFixtureMixesTypes(t *testing.T) {
	got, err := DecodeEvents(fixture(t, groupedEventFixture))
	require.NoError(t, err)
	var types []string
	for _, e := range got {
		types = append(types, e.Type)
		require.Equal(t, unix(1717236000), e.Time)
	}
	require.Equal(t, []string{"sent", "bounce", "bounce", "blocked", "open", "click", "spam", "unsub"}, types)

	hard, grey := got[1], got[2]
	require.Equal(t, int64(576460752303424002), hard.MessageID)
	require.True(t, hard.HardBounce)
	require.True(t, hard.Permanent(), "R-MAIL-1: a hard bounce goes to the blacklist")
	require.Equal(t, "greylisted", grey.Error)
	require.True(t, grey.SoftBounce(), "R-MAIL-2: a greylisted bounce is soft")
	require.True(t, got[3].Permanent(), "R-MAIL-1: a preblocked address is blocked for every message")
	require.True(t, got[6].Permanent(), "R-MAIL-1: a spam complaint goes to the blacklist")
	require.Equal(t, "https://app.example.org/confirm?token=abc123", got[5].URL)

	unsub := got[7] // the List-Unsubscribe header form: no CustomID, no Payload, list 0
	require.Equal(t, Event{Type: EventUnsub, Time: unix(1717236000), MessageID: 576460752303424005,
		MessageGUID: "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", Email: "dave@example.com"}, unsub)
	require.False(t, unsub.Permanent())
}

// A single object and a one-element array carry the same event: the shape changes nothing.
func TestDecodeEvents_bothShapesAgree(t *testing.T) {
	for _, name := range singleEventFixtures {
		single := fixture(t, name)
		one, err := DecodeEvents(single)
		require.NoError(t, err)
		arr, err := DecodeEvents(append(append([]byte("\n\t ["), single...), ']'))
		require.NoError(t, err)
		require.Equal(t, one, arr, name)
	}
	none, err := DecodeEvents([]byte(" [ ] "))
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestDecodeEvents_messageIDAbove2To53IsExact(t *testing.T) {
	const id = int64(576460752303424001) // the fixtures' MessageID
	require.NotEqual(t, id, int64(float64(id)), "the test needs an id float64 cannot hold")
	for _, body := range []string{
		`{"event":"sent","MessageID":576460752303424001}`,
		`{"event":"sent","MessageID":"576460752303424001"}`,
		// mj_message_id is documented as a string copy of MessageID (sent events): read it
		// when MessageID is missing, never in place of a MessageID that is there.
		`{"event":"sent","mj_message_id":"576460752303424001"}`,
		`{"event":"sent","MessageID":576460752303424001,"mj_message_id":"1"}`,
	} {
		got, err := DecodeEvents([]byte(body))
		require.NoError(t, err, body)
		require.Equal(t, id, got[0].MessageID, body)
	}
	max, err := DecodeEvents([]byte(`[{"MessageID":9223372036854775807,"mj_list_id":9876543210}]`))
	require.NoError(t, err)
	require.Equal(t, int64(9223372036854775807), max[0].MessageID)
	require.Equal(t, int64(9876543210), max[0].ListID)

	_, err = DecodeEvents([]byte(`{"MessageID":9223372036854775808}`))
	require.ErrorIs(t, err, ErrMalformed, "beyond int64: refused, never rounded")
}

func TestDecodeEvents_unknownTypesAndFieldsAreKept(t *testing.T) {
	body := `[
	  {"event":"sent","MessageID":1,"time":10,"brand_new_field":{"nested":[1,2]}},
	  {"event":"delivered_to_mars","MessageID":2,"time":11,"email":"eve@example.com"},
	  {"event":"spam","MessageID":3,"time":12,"Source":"JMRPP"}
	]`
	got, err := DecodeEvents([]byte(body))
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, "delivered_to_mars", got[1].Type, "an unknown type is kept for the caller to ignore")
	require.False(t, got[1].Permanent())
	require.False(t, got[1].SoftBounce())
	require.Equal(t, "mj:2:other:11", got[1].Key(), "an unknown type is free text: never in a key")
	require.True(t, got[2].Permanent(), "the known events of the same batch still count")
}

// R-DATA-4: ip, agent and geo are never decoded, so nothing downstream can store or log
// them. The test fails if Event grows a field for them, or if any field ends up holding
// one of their values.
func TestDecodeEvents_R_DATA_4_noIPAgentOrGeo(t *testing.T) {
	typ := reflect.TypeFor[Event]()
	for i := range typ.NumField() {
		name := strings.ToLower(typ.Field(i).Name)
		for _, banned := range []string{"ip", "agent", "geo", "comment", "smtp"} {
			require.NotEqual(t, banned, name)
			require.False(t, strings.HasPrefix(name, banned) || strings.HasSuffix(name, banned),
				"Event.%s looks like a field for %s", typ.Field(i).Name, banned)
		}
	}
	for _, name := range eventFixtures() {
		raw := fixture(t, name)
		var banned []string // the values the fixture holds under ip, agent, geo, comment, smtp_reply
		for _, obj := range rawObjects(t, raw) {
			for _, k := range []string{"ip", "agent", "geo", "comment", "smtp_reply"} {
				if v, _ := obj[k].(string); len(v) > 2 { // "" and "FR" also occur elsewhere by chance
					banned = append(banned, v)
				}
			}
		}
		events, err := DecodeEvents(raw)
		require.NoError(t, err)
		for _, e := range events {
			v := reflect.ValueOf(e)
			for i := range v.NumField() {
				if s, ok := v.Field(i).Interface().(string); ok {
					for _, b := range banned {
						require.NotContains(t, s, b, "%s: Event.%s holds an ip/agent/geo/SMTP value", name, typ.Field(i).Name)
					}
				}
			}
		}
		if name == "events-single-open.json" || name == "events-single-click.json" || name == "events-single-unsub.json" {
			require.NotEmpty(t, banned, "%s should carry ip and agent for this test to mean something", name)
		}
	}
}

// R-OPS-1: printing or logging an Event shows ids, never the address, the link or anything
// the body carried besides.
func TestEvent_R_OPS_1_printsAndLogsNoPersonalData(t *testing.T) {
	events, err := DecodeEvents(fixture(t, groupedEventFixture))
	require.NoError(t, err)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	for _, e := range events {
		log.Info("event", "event", e)
	}
	out := fmt.Sprintf("%v %+v %#v %s", events, events, events, events) + logs.String()
	for _, e := range events {
		require.NotContains(t, out, e.Email)
		if e.URL != "" {
			require.NotContains(t, out, e.URL)
		}
	}
	require.NotContains(t, out, "@")
	require.NotContains(t, out, "token")
	require.Contains(t, logs.String(), `"messageId":576460752303424001`)
}

func TestDecodeEvents_malformedIsRefusedWithoutQuotingIt(t *testing.T) {
	for _, body := range []string{
		``, `   `, `null`, `"alice@example.com"`, `42`, `true`,
		`{"email":"alice@example.com"`,
		`{"email":"alice@example.com"} {"email":"bob@example.com"}`,
		`[{"email":"alice@example.com"},]`,
		`[{"email":"alice@example.com"}`,
		`[null]`, `[1]`, `[["alice@example.com"]]`, `["alice@example.com"]`,
		`{"email":["alice@example.com"]}`,
		`{"email":"alice@example.com","MessageID":"alice@example.com"}`,
		`{"email":"alice@example.com","time":{"s":1}}`,
		`{"email":"alice@example.com","time":[1717236000]}`,
		`{"email":"alice@example.com","time":true}`,
		`{"email":"alice@example.com","hard_bounce":"alice@example.com"}`,
		`{"alice@example.com":1e999999,"MessageID":1e999999}`,
		`{"email":"alice@example.com"}]`,
		`[{"email":"alice@example.com"}] x`,
		"\xff\xfe{}",
	} {
		got, err := DecodeEvents([]byte(body))
		require.ErrorIs(t, err, ErrMalformed, "%q", body)
		require.Nil(t, got)
		requireQuotesNothing(t, err)
	}
}

// TestDecodeEvents_R_MAIL_1_5_timesNoCalendarHoldsDoNotRefuseTheBatch: a `time` that is a
// number or a string but no integer of Unix seconds reads as no time, and any integer is kept
// as it came; the batch is decoded, so the rest of it can be applied (issue 24). Whether a
// time is plausible is the service's to decide, with its clock.
func TestDecodeEvents_R_MAIL_1_5_timesNoCalendarHoldsDoNotRefuseTheBatch(t *testing.T) {
	body := `[
		{"event":"spam","email":"a@example.com","time":1.5e9},
		{"event":"unsub","email":"b@example.com","time":null},
		{"event":"bounce","email":"c@example.com","time":99999999999999999999},
		{"event":"click","email":"d@example.com","time":"soon"},
		{"event":"spam","email":"e@example.com","time":1e999999},
		{"event":"unsub","email":"f@example.com","time":""},
		{"event":"unsub","email":"g@example.com"},
		{"event":"click","email":"h@example.com","time":253402300800},
		{"event":"bounce","email":"i@example.com","time":-62198755200},
		{"event":"blocked","email":"j@example.com","time":"9223372036854775807"},
		{"event":"open","email":"k@example.com","time":-9223372036854775808}
	]`
	got, err := DecodeEvents([]byte(body))
	require.NoError(t, err)
	require.Len(t, got, 11)
	for i := range 7 {
		require.True(t, got[i].Time.IsZero(), "event %d: no time", i)
	}
	require.Equal(t, 10000, got[7].Time.Year())
	require.Equal(t, -1, got[8].Time.Year())
	require.Equal(t, int64(9223372036854775807), got[9].Time.Unix())
	require.Equal(t, int64(-9223372036854775808), got[10].Time.Unix())
	for _, e := range got {
		require.Regexp(t, `^mj:|^$`, e.Key(), "a key is still made")
	}
}

func TestDecodeEvents_boundsTheBatch(t *testing.T) {
	batch := func(n int) []byte {
		var b bytes.Buffer
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"event":"open","MessageID":%d,"time":1717236000}`, i+1)
		}
		b.WriteByte(']')
		return b.Bytes()
	}
	got, err := DecodeEvents(batch(MaxEvents))
	require.NoError(t, err)
	require.Len(t, got, MaxEvents)

	_, err = DecodeEvents(batch(MaxEvents + 1))
	require.ErrorIs(t, err, ErrTooManyEvents)
	require.NotErrorIs(t, err, ErrMalformed, "a handler may answer differently (413) to an oversized batch")
}

func TestEvent_R_MAIL_1_2_permanentOrSoft(t *testing.T) {
	for _, c := range []struct {
		name            string
		e               Event
		permanent, soft bool
	}{
		{"spam complaint", Event{Type: EventSpam, Source: "JMRPP"}, true, false},
		{"hard bounce, user unknown", Event{Type: EventBounce, HardBounce: true, ErrorRelatedTo: "recipient", Error: "user unknown"}, true, false},
		{"hard bounce, invalid domain", Event{Type: EventBounce, HardBounce: true, ErrorRelatedTo: "domain", Error: "invalid domain"}, true, false},
		{"hard bounce, no detail", Event{Type: EventBounce, HardBounce: true}, true, false},
		{"soft bounce, quota", Event{Type: EventBounce, ErrorRelatedTo: "recipient", Error: "quota exceeded"}, false, true},
		{"greylisted, even if flagged hard", Event{Type: EventBounce, HardBounce: true, ErrorRelatedTo: "domain", Error: "greylisted"}, false, true},
		{"hard bounce blamed on our content", Event{Type: EventBounce, HardBounce: true, ErrorRelatedTo: "spam", Error: "content blocked"}, false, true},
		{"blocked, preblocked", Event{Type: EventBlocked, ErrorRelatedTo: "mailjet", Error: "preblocked"}, true, false},
		{"blocked, no detail", Event{Type: EventBlocked}, true, false},
		{"blocked, recipient blacklisted", Event{Type: EventBlocked, ErrorRelatedTo: "recipient", Error: "blacklisted"}, true, false},
		{"blocked by a broken template", Event{Type: EventBlocked, ErrorRelatedTo: "content", Error: "error in template language"}, false, false},
		{"blocked, duplicate in campaign", Event{Type: EventBlocked, ErrorRelatedTo: "mailjet", Error: "duplicate in campaign"}, false, false},
		{"blocked, Mailjet system issue", Event{Type: EventBlocked, ErrorRelatedTo: "system", Error: "system issue"}, false, false},
		{"sent", Event{Type: EventSent}, false, false},
		{"open", Event{Type: EventOpen}, false, false},
		{"click", Event{Type: EventClick}, false, false},
		{"unsub", Event{Type: EventUnsub}, false, false},
		{"unknown type", Event{Type: "Spam ", HardBounce: true}, false, false},
	} {
		require.Equal(t, c.permanent, c.e.Permanent(), c.name)
		require.Equal(t, c.soft, c.e.SoftBounce(), c.name)
	}
}

func TestEvent_Key(t *testing.T) {
	events, err := DecodeEvents(fixture(t, groupedEventFixture))
	require.NoError(t, err)
	require.Equal(t, "mj:576460752303424001:sent:1717236000", events[0].Key())
	seen := map[string]bool{}
	for _, e := range events {
		k := e.Key()
		require.NotEmpty(t, k)
		require.False(t, seen[k], "distinct events of the batch share a key: %s", k)
		seen[k] = true
		require.NotContains(t, k, e.Email)
	}
	// Mailjet's duplicates — the same batch again — give the same keys.
	again, err := DecodeEvents(fixture(t, groupedEventFixture))
	require.NoError(t, err)
	for i := range again {
		require.Equal(t, events[i].Key(), again[i].Key())
	}
	// The same message and type at another time is another event (a second open).
	later := events[4]
	later.Time = later.Time.Add(time.Minute)
	require.NotEqual(t, events[4].Key(), later.Key())

	// Without a MessageID (a sandbox send has 0) the GUID identifies the message, if it is one.
	require.Equal(t, "mj:g3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93:open:0",
		Event{Type: EventOpen, MessageGUID: "3F2C9A4E-8B1D-4C6E-9F7A-2D5B8E1C0A93"}.Key())
	require.Empty(t, Event{Type: EventOpen, MessageGUID: "alice@example.com", Email: "alice@example.com"}.Key())
	require.Empty(t, Event{Type: EventOpen}.Key())
}

func TestPayload_roundTripsIdsOnly(t *testing.T) {
	p := EncodePayload("demo", "signup_confirmation", "mail_01J")
	require.JSONEq(t, `{"brand":"demo","kind":"signup_confirmation","job":"mail_01J"}`, p)
	brand, kind, job, ok := ParsePayload(p)
	require.True(t, ok)
	require.Equal(t, []string{"demo", "signup_confirmation", "mail_01J"}, []string{brand, kind, job})

	brand, kind, job, ok = ParsePayload(EncodePayload("demo", "account_exists", ""))
	require.True(t, ok)
	require.Equal(t, []string{"demo", "account_exists", ""}, []string{brand, kind, job})

	// What Send did not write is not ours: the fixtures' payloads belong to another app.
	for _, s := range []string{"", doiPayload, `{"brand":"demo"}`, `{"kind":"x"}`, `[]`, `null`,
		`{"brand":1,"kind":"x"}`, `not json`, `{"brand":"demo","kind":"x"`} {
		_, _, _, ok := ParsePayload(s)
		require.False(t, ok, s)
	}
}

func TestContactOfPayload(t *testing.T) {
	p := EncodeContactPayload("demo", "contact_invitation", "inv_01J", "c_01J")
	require.JSONEq(t, `{"brand":"demo","kind":"contact_invitation","job":"inv_01J","contact":"c_01J"}`, p)
	brand, contact, ok := ContactOfPayload(p)
	require.True(t, ok)
	require.Equal(t, []string{"demo", "c_01J"}, []string{brand, contact})
	for _, s := range []string{"", doiPayload, EncodePayload("demo", "account_exists", "j"), `{"contact":"c_1"}`, `{"brand":"demo","kind":"x","contact":1}`} {
		_, _, ok := ContactOfPayload(s)
		require.False(t, ok, s)
	}
}

// FuzzContactOfPayload: a payload is callback input; whatever it holds, a contact is named only
// with its brand and kind, and never panics.
func FuzzContactOfPayload(f *testing.F) {
	f.Add(EncodeContactPayload("demo", "contact_invitation", "inv_1", "c_1"))
	f.Add(doiPayload)
	f.Add(`{"brand":"b","kind":"k","contact":""}`)
	f.Fuzz(func(t *testing.T, s string) {
		brand, contact, ok := ContactOfPayload(s)
		if ok && (brand == "" || contact == "") {
			t.Fatalf("ok without brand or contact")
		}
		if b, _, _, parsed := ParsePayload(s); ok && (!parsed || b != brand) {
			t.Fatalf("a contact from a payload ParsePayload refuses")
		}
	})
}

// rawObjects reads a fixture generically, for tests that look at what the wire holds.
func rawObjects(t testing.TB, raw []byte) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		var objs []map[string]any
		require.NoError(t, dec.Decode(&objs))
		return objs
	}
	var obj map[string]any
	require.NoError(t, dec.Decode(&obj))
	return []map[string]any{obj}
}

// decodeErrorRE is every message DecodeEvents may return, with numbers as N: fixed words,
// positions and our own field names. An error that matched nothing here could be quoting
// its input — which is where the addresses are.
var decodeErrorRE = func() *regexp.Regexp {
	var fields []string
	for f := range knownFields {
		fields = append(fields, regexp.QuoteMeta(f))
	}
	slices.Sort(fields)
	return regexp.MustCompile(`^(mailjet events: malformed callback body: (` +
		`empty body|neither a JSON object nor an array|data after the JSON value|truncated JSON|` +
		`invalid JSON at byte N|event N is not an object|event N is not an object of the expected types|` +
		`event N could not be decoded|event N: field (` + strings.Join(fields, "|") + `) has the wrong type)` +
		`|mailjet events: too many events in one body: more than N)$`)
}()

var digits = regexp.MustCompile(`[0-9]+`)

func requireQuotesNothing(t testing.TB, err error) {
	t.Helper()
	msg := digits.ReplaceAllString(err.Error(), "N")
	require.Regexp(t, decodeErrorRE, msg, "a decode error says something other than a position or a field name")
	require.NotContains(t, err.Error(), "@")
	require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooManyEvents))
}

// FuzzDecodeEvents throws arbitrary bodies at the decoder, starting from every events
// fixture: it must never panic, never return more than MaxEvents, never quote the body in
// an error (R-OPS-1: the handler logs it), and what it accepts must have usable keys that
// carry no personal data.
func FuzzDecodeEvents(f *testing.F) {
	for _, name := range eventFixtures() {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`[{"event":"bounce","MessageID":"576460752303424002","hard_bounce":"true","email":"alice@example.com"},null]`))
	f.Add([]byte(`{"event":"sent","mj_message_id":"9223372036854775807","Message_GUID":"3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93"}`))
	// Times no calendar holds (issue 24): year 10000, a negative year, the int64 ends, past
	// int64, not an integer, null, a word.
	f.Add([]byte(`[{"event":"click","MessageID":1,"time":253402300800},{"event":"bounce","MessageID":2,"time":-62198755200,"hard_bounce":true}]`))
	f.Add([]byte(`[{"event":"spam","MessageID":3,"time":9223372036854775807},{"event":"open","MessageID":4,"time":-9223372036854775808}]`))
	f.Add([]byte(`[{"event":"unsub","MessageID":5,"time":null},{"event":"spam","time":99999999999999999999},{"event":"blocked","time":1.5e9},{"event":"click","time":"soon"},{"event":"unsub","time":""}]`))
	keyRE := regexp.MustCompile(`^mj:(-?[0-9]+|g[0-9a-f-]{36}):(sent|open|click|bounce|blocked|spam|unsub|other):-?[0-9]+$`)

	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := DecodeEvents(body)
		if err != nil {
			require.Nil(t, events)
			requireQuotesNothing(t, err)
			return
		}
		require.LessOrEqual(t, len(events), MaxEvents)
		for _, e := range events {
			k := e.Key()
			if e.MessageID != 0 {
				require.NotEmpty(t, k)
				require.Contains(t, k, ":"+strconv.FormatInt(e.MessageID, 10)+":")
			}
			if k != "" {
				require.Regexp(t, keyRE, k)
			}
			require.False(t, e.Permanent() && e.SoftBounce())
			require.NotContains(t, e.String(), "@")
			require.NotContains(t, e.GoString(), "@")
		}
		again, err := DecodeEvents(body)
		require.NoError(t, err)
		require.Equal(t, events, again)
	})
}

// TestDeeplyNestedBodyRefused is finding 1 of issue 24 for the Event API callback: a body
// nested deeper than MaxDepth is malformed, and says the bound; so is such a payload.
func TestDeeplyNestedBodyRefused(t *testing.T) {
	for _, body := range []string{
		`[{"event":"sent","email":` + strings.Repeat("[", 60_000),
		`{"event":"sent","x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
	} {
		_, err := DecodeEvents([]byte(body))
		require.ErrorIs(t, err, ErrMalformed)
		var deep *jsondepth.Error
		require.ErrorAs(t, err, &deep)
		require.Contains(t, err.Error(), "nested deeper than 16 levels")
	}
	deep := `{"brand":"acme","kind":"contact_invitation","contact":"c1","x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`
	_, _, _, ok := ParsePayload(deep)
	require.False(t, ok)
	_, _, ok = ContactOfPayload(deep)
	require.False(t, ok)
	_, _, _, ok = ParsePayload(`{"brand":"acme","kind":"contact_invitation","contact":"c1","x":[[]]}`)
	require.True(t, ok, "a payload within the bound still parses")
}

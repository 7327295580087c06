package gdpr

import (
	"testing"
	"time"
)

// FuzzDecodeLedgerRecord: a replay decodes ledger entries, which live outside the database
// and could be damaged. Whatever the bytes, it either refuses them or answers a record of the
// entry's brand and id whose canonical JSON is the entry's very bytes.
func FuzzDecodeLedgerRecord(f *testing.F) {
	role := RoleAmbassador
	good, err := canonicalRecord(ErasureRecord{BrandID: "acme", ID: "er_0000018e_ab", SubjectID: "m_1", SubjectKind: SubjectMember,
		Role: &role, Rule: RuleGracePeriod, Reason: ReasonUnsubscribed, RequestedAt: time.Unix(1, 0), DueAt: time.Unix(2, 0),
		DoneAt: time.Unix(3, 5), FieldsErased: []string{"email"}, BlobsDeleted: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "acme", "er_0000018e_ab")
	f.Add([]byte(`{"brandId":"acme","id":"x"}`), "acme", "x")
	f.Add([]byte(`null`), "acme", "er_1")
	f.Fuzz(func(t *testing.T, data []byte, brand, id string) {
		r, err := decodeLedgerRecord(LedgerEntry{BrandID: BrandID(brand), RecordID: id, Record: data})
		if err != nil {
			return
		}
		again, err := canonicalRecord(r)
		if err != nil || string(again) != string(data) {
			t.Fatalf("accepted bytes that are not the record's canonical JSON")
		}
		if string(r.BrandID) != brand || r.ID != id || r.SubjectID == "" {
			t.Fatalf("accepted a record of another brand or id, or of no subject")
		}
	})
}

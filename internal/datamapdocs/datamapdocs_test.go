package datamapdocs_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"popsell-gdpr/internal/datamapdocs"
	"popsell-gdpr/internal/gdpr"
)

// fidesField is a field of a fideslang dataset, as Fides reads it.
type fidesField struct {
	Name           string   `yaml:"name"`
	Description    string   `yaml:"description"`
	DataCategories []string `yaml:"data_categories"`
	FidesMeta      *struct {
		DataType string `yaml:"data_type"`
	} `yaml:"fides_meta"`
	Fields []fidesField `yaml:"fields"`
}

type fidesDataset struct {
	Dataset []struct {
		FidesKey    string `yaml:"fides_key"`
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Collections []struct {
			Name   string       `yaml:"name"`
			Fields []fidesField `yaml:"fields"`
		} `yaml:"collections"`
	} `yaml:"dataset"`
}

// TestFidesDatasetIsFideslang: the hand-written YAML parses, and has fideslang's shape: a
// dataset with a key, collections with fields; a leaf has categories of the map's list, an
// object has sub-fields and no category (fideslang refuses both), a list of objects says so;
// every path of the map is there.
func TestFidesDatasetIsFideslang(t *testing.T) {
	var ds fidesDataset
	if err := yaml.Unmarshal(datamapdocs.FidesDataset(gdpr.DataMap()), &ds); err != nil {
		t.Fatalf("the dataset is not YAML: %v", err)
	}
	if len(ds.Dataset) != 1 || ds.Dataset[0].FidesKey != "popsell_gdpr" || ds.Dataset[0].Name == "" {
		t.Fatalf("one dataset with a fides_key and a name expected: %+v", ds.Dataset)
	}
	paths := map[string]map[string]bool{}
	var walk func(collection, prefix string, fields []fidesField)
	walk = func(collection, prefix string, fields []fidesField) {
		for _, f := range fields {
			if f.Name == "" {
				t.Errorf("%s: a field without a name", collection)
			}
			path := prefix + f.Name
			if len(f.Fields) > 0 {
				if len(f.DataCategories) > 0 {
					t.Errorf("%s.%s: an object field with categories", collection, path)
				}
				sep := "."
				if f.FidesMeta != nil {
					if f.FidesMeta.DataType != "object[]" {
						t.Errorf("%s.%s: data_type %q", collection, path, f.FidesMeta.DataType)
					}
					sep = "[]."
				}
				walk(collection, path+sep, f.Fields)
				continue
			}
			if len(f.DataCategories) == 0 || f.Description == "" {
				t.Errorf("%s.%s: a leaf needs categories and a description", collection, path)
			}
			for _, c := range f.DataCategories {
				if _, ok := gdpr.DataMapCategories[c]; !ok {
					t.Errorf("%s.%s: category %q", collection, path, c)
				}
			}
			paths[collection][path] = true
		}
	}
	for _, c := range ds.Dataset[0].Collections {
		paths[c.Name] = map[string]bool{}
		walk(c.Name, "", c.Fields)
	}
	for _, table := range gdpr.DataMap() {
		for _, f := range table.Fields {
			if !paths[table.Collection][f.Path] {
				t.Errorf("%s.%s is in the map, not in the dataset", table.Collection, f.Path)
			}
		}
	}
}

// TestRecordNamesEverySubjectAndField: the Art. 30 record lists each subject kind, each
// purpose and each field of the map, and each per-brand retention duration with its default.
func TestRecordNamesEverySubjectAndField(t *testing.T) {
	rec := string(datamapdocs.Record(gdpr.DataMap(), gdpr.DefaultRetention()))
	for _, want := range []string{"## Controller and processor", "## Categories of data subjects", "## Purposes",
		"## Categories of personal data", "## Recipients", "## Transfers to third countries", "## Retention",
		"## Security measures", "Mailjet", "| `inactivity` | R-RET-1 | P3Y |", "| `erasureGrace` | R-ERASE-5 | P7D |"} {
		if !strings.Contains(rec, want) {
			t.Errorf("the record lacks %q", want)
		}
	}
	for _, p := range gdpr.Purposes {
		if !strings.Contains(rec, "| "+string(p.Purpose)+" | ") {
			t.Errorf("the record does not describe the purpose %s", p.Purpose)
		}
	}
	for _, table := range gdpr.DataMap() {
		if !strings.Contains(rec, "### "+table.Kind+" ") {
			t.Errorf("the record has no table for %s", table.Kind)
		}
		for _, f := range table.Fields {
			if !strings.Contains(rec, "| `"+f.Path+"` | `"+f.Category+"` |") {
				t.Errorf("the record lacks %s.%s", table.Kind, f.Path)
			}
		}
	}
}

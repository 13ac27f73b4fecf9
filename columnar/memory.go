package columnar

// Memory is a Source over columns held in memory, for tests and small
// embedded data. Columns are shared, not copied.
type Memory struct {
	Name    string
	GeneIDs []string
	Names   []string
	Columns [][]float64 // one per sample, each with one value per gene
	Ints    bool
}

// NewMemory makes a Source from sample columns.
func NewMemory(name string, genes, samples []string, columns [][]float64) *Memory {
	if len(columns) != len(samples) {
		panic("columnar: NewMemory needs one column per sample")
	}
	for _, c := range columns {
		if len(c) != len(genes) {
			panic("columnar: NewMemory needs one value per gene in every column")
		}
	}
	return &Memory{Name: name, GeneIDs: genes, Names: samples, Columns: columns}
}

func (m *Memory) Path() string      { return m.Name }
func (m *Memory) Genes() []string   { return m.GeneIDs }
func (m *Memory) Samples() []string { return m.Names }
func (m *Memory) Integer() bool     { return m.Ints }
func (m *Memory) Close() error      { return nil }
func (m *Memory) ReadColumn(j int, dst []float64) error {
	copy(dst, m.Columns[j])
	return nil
}

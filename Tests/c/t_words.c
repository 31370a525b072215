/* The header's static inline decoders and the exported scamem_word_decode()
 * agree on every type, under both layout profiles, on synthetic words and on
 * every word of a populated machine. */
#include "test.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	/* SplitMix64 */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void agree(const struct scamem_layout *l, uint64_t w)
{
	struct scamem_word_info wi;
	EXPECT_OK(scamem_word_decode(l, w, &wi));
	uint32_t t = scamem_word_type(w);
	EXPECT(wi.word == w && wi.type == t);
	EXPECT(wi.is_nopage == (uint32_t)scamem_word_is_nopage(w));
	EXPECT(wi.is_inline == (uint32_t)scamem_type_is_inline(t));
	EXPECT(wi.desc == scamem_word_desc(w));
	if (scamem_type_is_inline(t)) {
		EXPECT(wi.subtype == scamem_word_subtype(w));
		EXPECT(wi.order == scamem_word_order(w));
		EXPECT(wi.usermap == (uint32_t)scamem_word_usermap(w));
		EXPECT(wi.nid == scamem_memdesc_nid(l, w));
		EXPECT(wi.zone == scamem_memdesc_zonenum(l, w));
		EXPECT(wi.section == scamem_memdesc_section(l, w));
		EXPECT(wi.desc == 0);
	} else {
		EXPECT(wi.desc == (w & SCAMEM_WORD_DESC_MASK));
	}
}

static void synthetic(const struct scamem_layout *l)
{
	for (uint32_t t = 0; t < SCAMEM_NR_TYPES; t++)
		for (int i = 0; i < 4096; i++)
			agree(l, (next() & ~SCAMEM_WORD_TYPE_MASK) | t);
	agree(l, 0);
	agree(l, SCAMEM_WORD_NOPAGE);

	/* Fields land where the layout says: build a word by hand. */
	uint64_t w = SCAMEM_TYPE_MISC | (uint64_t)SCAMEM_MISC_VMALLOC << SCAMEM_WORD_SUBTYPE_SHIFT |
		     SCAMEM_WORD_USERMAP | 5ull << SCAMEM_WORD_ORDER_SHIFT | 3ull << l->nodes_pgshift |
		     (uint64_t)SCAMEM_ZONE_DMA32 << l->zones_pgshift;
	if (l->sections_width)
		w |= 77ull << l->sections_pgshift;
	EXPECT(scamem_word_subtype(w) == SCAMEM_MISC_VMALLOC && scamem_word_usermap(w));
	EXPECT(scamem_word_order(w) == 5 && scamem_memdesc_nid(l, w) == 3);
	EXPECT(scamem_memdesc_zonenum(l, w) == SCAMEM_ZONE_DMA32);
	EXPECT(scamem_memdesc_section(l, w) == (l->sections_width ? 77u : 0u));
	agree(l, w);
}

static scamem_machine *populated(int vmemmap)
{
	static const struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA, 0, 0x1000 },
		{ 0, SCAMEM_ZONE_DMA32, 0x1000, 0x3f000 },
		{ 1, SCAMEM_ZONE_NORMAL, 0x40000, 0x40000 },
		{ 1, SCAMEM_ZONE_MOVABLE, 0x80000, 0x8000 },
	};
	static const struct scamem_pfn_range holes[] = { { 0x20000, 0x10000 } };
	struct scamem_machine_desc d = { sizeof d, 2, SCAMEM_PROFILE_X86_64_SPARSEMEM_INIT, zones, holes, NULL, 4, 1, 0, 0, 0, 0, NULL, 0, 0 };
	struct scamem_profile vm = SCAMEM_PROFILE_X86_64_VMEMMAP_INIT;
	if (vmemmap)
		d.profile = vm;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	uint64_t pfn;
	for (int i = 0; i < 200; i++) {
		uint32_t order = (uint32_t)(next() % 4);
		int32_t nid = (int32_t)(next() % 2);
		switch (next() % 5) {
		case 0: EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, order, nid, &pfn)); break;
		case 1: EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_ANON, SCAMEM_GFP_MOVABLE, order, nid, &pfn)); break;
		case 2: EXPECT_OK(scamem_slab_alloc(m, 3, 512, 0, order, nid, &pfn)); break;
		case 3: EXPECT_OK(scamem_ptdesc_alloc(m, SCAMEM_GFP_DMA32, 0, nid, &pfn)); break;
		default: EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_DMA, order, 0, &pfn)); break;
		}
	}
	return m;
}

/* A caller's layout is untrusted: every field at and past its edges gives 0
 * (and the inline decoders' answer) or -EINVAL, never a trap. */
static void hostile_layouts(void)
{
	struct scamem_word_info wi;
	struct scamem_layout l = { SCAMEM_LAYOUT_VERSION, 27, 0, 40, 3, 0, 24, 21 };
	/* The issue's example: a 40-bit node field. */
	EXPECT_ERR(scamem_word_decode(&l, 0xfffffffffffff000ull, &wi), -EINVAL);
	const uint32_t edge[] = { 0, 1, 3, 10, 31, 32, 33, 40, 63, 64, 65, UINT32_MAX };
	const size_t n = sizeof edge / sizeof edge[0];
	const uint64_t words[] = { 0xfffffffffffff000ull, UINT64_MAX, 0, 0x0123456789abcdefull };
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++)
			for (size_t c = 0; c < n; c++) {
				struct scamem_layout h = { SCAMEM_LAYOUT_VERSION, 12 + (uint32_t)(a % 52), edge[a], edge[b],
							   edge[c], edge[b], edge[c], edge[a] };
				for (size_t k = 0; k < 4; k++) {
					int r = scamem_word_decode(&h, words[k], &wi);
					EXPECT(r == 0 || r == -EINVAL);
					if (r == 0 && wi.is_inline) {
						EXPECT(wi.nid == scamem_memdesc_nid(&h, words[k]));
						EXPECT(wi.zone == scamem_memdesc_zonenum(&h, words[k]));
					}
				}
			}
	l.nodes_width = 32;
	l.nodes_pgshift = 32;
	EXPECT_OK(scamem_word_decode(&l, 0xfffffffffffff000ull, &wi));
	EXPECT(wi.nid == UINT32_MAX);
	l.version = 0;
	EXPECT_ERR(scamem_word_decode(&l, 0, &wi), -EINVAL);
}

int main(void)
{
	hostile_layouts();
	for (int vmemmap = 0; vmemmap <= 1; vmemmap++) {
		scamem_machine *m = populated(vmemmap);
		if (!m)
			return finish(NULL, "t_words");
		struct scamem_layout l;
		EXPECT_OK(scamem_machine_layout(m, &l));
		EXPECT(l.version == SCAMEM_LAYOUT_VERSION);
		EXPECT(vmemmap ? l.sections_width == 0 : l.sections_width == 19);
		synthetic(&l);

		const uint64_t *w;
		uint64_t nr, seen[SCAMEM_NR_TYPES] = {0};
		EXPECT_OK(scamem_machine_words(m, &w, &nr));
		for (uint64_t pfn = 0; pfn < nr; pfn++) {
			EXPECT(scamem_word_load(w, pfn) == w[pfn]);
			agree(&l, w[pfn]);
			seen[scamem_word_type(w[pfn])]++;
			/* An inline word's node/zone is the page's. */
			if (scamem_type_is_inline(scamem_word_type(w[pfn])) && pfn % 97 == 0) {
				EXPECT(scamem_page_to_nid(m, pfn) == (int)scamem_memdesc_nid(&l, w[pfn]));
				EXPECT(scamem_page_zonenum(m, pfn) == (int)scamem_memdesc_zonenum(&l, w[pfn]));
			}
		}
		const int types[] = { SCAMEM_TYPE_MISC, SCAMEM_TYPE_BUDDY, SCAMEM_TYPE_FILE, SCAMEM_TYPE_ANON,
				      SCAMEM_TYPE_SLAB, SCAMEM_TYPE_PTDESC, SCAMEM_TYPE_RESERVED };
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			EXPECT(seen[types[i]] > 0);
		if (vmemmap)
			return finish(m, "t_words");
		EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
		scamem_machine_free(m);
	}
	return 1;
}

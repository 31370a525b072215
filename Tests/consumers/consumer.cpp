// The C++ consumer: the header from C++17, handles owned by unique_ptr,
// a vmalloc area's pages read into a vector. Exit 1 names the first wrong result.
#include <scamem.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

struct MachineFree {
	void operator()(scamem_machine *m) const { scamem_machine_free(m); }
};
using Machine = std::unique_ptr<scamem_machine, MachineFree>;

bool check(bool ok, const char *what)
{
	if (!ok)
		std::fprintf(stderr, "consumer_cxx: %s\n", what);
	return ok;
}

} // namespace

int main()
{
	scamem_machine *raw = nullptr;
	if (!check(scamem_machine_new_default(&raw) == 0, "scamem_machine_new_default"))
		return 1;
	Machine m(raw);

	struct scamem_machine_info info{}; // "struct": a function has the same name
	if (!check(scamem_machine_info(m.get(), &info) == 0 && info.nr_nodes == 2 && info.free_pages > 0,
		   "scamem_machine_info: 2 nodes, free pages"))
		return 1;

	uint64_t addr = 0;
	const uint64_t pages = 5;
	if (!check(scamem_vmalloc(m.get(), pages << SCAMEM_PAGE_SHIFT, &addr) == 0 && addr != 0, "scamem_vmalloc"))
		return 1;
	scamem_vm_struct vm{};
	if (!check(scamem_find_vm_area(m.get(), addr, &vm) == 0 && vm.nr_pages == pages && vm.scamem != nullptr,
		   "scamem_find_vm_area"))
		return 1;
	std::vector<uint64_t> pfns(pages);
	if (!check(scamem_pages(m.get(), vm.scamem, pfns.data(), static_cast<uint32_t>(pfns.size())) ==
			   static_cast<int64_t>(pages),
		   "scamem_pages"))
		return 1;
	for (uint64_t i = 0; i < pages; i++)
		if (!check(scamem_vmalloc_to_pfn(m.get(), addr + (i << SCAMEM_PAGE_SHIFT)) ==
				   static_cast<int64_t>(pfns[i]),
			   "scamem_vmalloc_to_pfn matches scamem_pages"))
			return 1;
	if (!check(scamem_free_pages(m.get(), pfns[0], 0) == -EINVAL, "a scamem's page is not freed under its area"))
		return 1;
	if (!check(scamem_vfree(m.get(), addr) == 0 && scamem_vfree(m.get(), addr) == -ENOENT, "vfree, then vfree again"))
		return 1;
	const std::string text = scamem_strerror(-ENOENT);
	if (!check(!text.empty() && text != "unknown error", "scamem_strerror(-ENOENT)"))
		return 1;
	if (!check(scamem_machine_check(m.get(), nullptr, nullptr) == 0, "invariant checker"))
		return 1;
	std::printf("consumer_cxx: libscamem %s ok (%s after vfree)\n", scamem_version_string(), text.c_str());
	return 0;
}

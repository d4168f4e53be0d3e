#include "core/devhide.h"
#include "core/log.h"

static struct devhide_device devices[DEVHIDE_MAX];
static unsigned ndevices;

bool devhide_add(uint32_t bdf, const struct devhide_range *ranges, unsigned n)
{
    if (ndevices == DEVHIDE_MAX || n > DEVHIDE_RANGES_MAX) {
        kprintf("devhide: cannot hide %02x:%02x.%x from the cloud VM (table full)\n",
                bdf >> 8, (bdf >> 3) & 31, bdf & 7);
        return false;
    }
    struct devhide_device *d = &devices[ndevices++];
    d->bdf = bdf;
    d->nranges = n;
    d->ecam = 0;
    for (unsigned i = 0; i < n; i++)
        d->ranges[i] = ranges[i];
    return true;
}

unsigned devhide_count(void) { return ndevices; }
const struct devhide_device *devhide_get(unsigned i) { return i < ndevices ? &devices[i] : 0; }

bool devhide_bdf(uint32_t bdf)
{
    for (unsigned i = 0; i < ndevices; i++)
        if (devices[i].bdf == bdf)
            return true;
    return false;
}

bool devhide_overlaps(uint64_t base, uint64_t len, bool io)
{
    for (unsigned i = 0; i < ndevices; i++) {
        uint64_t e = devices[i].ecam;
        if (!io && e && base < e + 4096 && e < base + len)
            return true;
        for (unsigned r = 0; r < devices[i].nranges; r++) {
            const struct devhide_range *x = &devices[i].ranges[r];
            if (x->io == io && x->size && base < x->base + x->size && x->base < base + len)
                return true;
        }
    }
    return false;
}

void devhide_set_ecam(uint32_t bdf, uint64_t page)
{
    for (unsigned i = 0; i < ndevices; i++)
        if (devices[i].bdf == bdf)
            devices[i].ecam = page & ~0xFFFULL;
}

const struct devhide_device *devhide_ecam_at(uint64_t pa)
{
    for (unsigned i = 0; i < ndevices; i++)
        if (devices[i].ecam && (pa & ~0xFFFULL) == devices[i].ecam)
            return &devices[i];
    return 0;
}

// Models: the dma-buf design of a P2P client (a dynamic importer, drivers/dma-buf: RDMA
// ib_umem_dmabuf, a GPU importing another's buffer): mapRange attaches to the exporter of the
// range's pages (the device whose memory holds them) with a move_notify callback and maps the
// attachment; before the exporter moves or frees pages of the buffer it calls move_notify, where
// the importer waits for its DMA in flight, drops its entries and unmaps the attachment; the next
// DMA maps the attachment again (wherever the buffer lives then) before it starts. Under aperture
// pressure (the exporter's BAR window full of pinned slots) it gives up its other mapped imports of
// that exporter, as the exporter may evict a dynamic importer's buffer.
// What it forbids: buffers that are not one exporter's memory at attach time (-EINVAL).
// Leaves out: the dma_resv lock and fences the exporter itself waits on (its moves are immediate).
import { ENOENT } from "../../memory/errno.js";
import { dropEntries, track, waitForDma } from "./quiesce.js";
import {
  type DmaBufAttachment, type DmaRequest, type DriverDevice, type DriverInstance, type Fence, type HookError,
  type Kernel, type Op, type MapRequest, type P2pDriver, type RangeRequest,
} from "../api.js";

interface Import {
  attachment: DmaBufAttachment;
  /** False after move_notify, until the attachment is mapped again. */
  mapped: boolean;
  write: boolean;
}

class DmaBufImporter implements DriverInstance {
  private imports: Import[] = [];
  private readonly inflight: Fence[] = [];

  constructor(private readonly k: Kernel, private readonly dev: DriverDevice) {}

  /** move_notify: stop using the buffer's mapping before the exporter moves it. */
  private moveNotify(attachment: DmaBufAttachment): void {
    const k = this.k;
    for (const f of this.inflight) if (!f.signaled) k.dmaFenceWait(f);
    dropEntries(k, this.dev, attachment.mm, attachment.start, attachment.start + attachment.npages);
    k.dmaBufUnmapAttachment(attachment);
    const imp = this.imports.find((i) => i.attachment === attachment);
    if (imp) imp.mapped = false;
  }

  /** dma_buf_map_attachment and programming the device table with the buffer's addresses. */
  private *mapImport(imp: Import): Op<HookError | void> {
    const a = imp.attachment;
    const addrs = new Float64Array(a.npages);
    const flags = new Uint8Array(a.npages);
    const ret = yield* this.k.dmaBufMapAttachment(a, addrs, flags);
    if (ret < 0) return { ret, page: a.start, reason: "dma_buf_map_attachment failed" };
    if (!this.imports.includes(imp)) {
      // The range was unmapped (and detached) while the map slept: nothing may be programmed.
      for (let o = 0; o < a.npages; o++) this.k.dmaUnmap(this.dev, addrs[o], flags[o]);
      this.k.dmaBufUnmapAttachment(a);
      return { ret: -ENOENT, page: a.start, reason: "the range was unmapped while its dma-buf attachment was being mapped" };
    }
    const table = this.dev.table(a.mm);
    for (let o = 0; o < a.npages; o++) table.set(a.start + o, addrs[o], imp.write ? flags[o] : flags[o] & ~1);
    imp.mapped = true;
    return undefined;
  }

  /** Aperture pressure: the exporter may move a dynamic importer's buffer, so mapped imports of
   *  `provider` are given up (as by move_notify) and mapped again at their next DMA. */
  aperturePressure(provider: string): number {
    let released = 0;
    for (const imp of this.imports) {
      if (!imp.mapped || imp.attachment.exporter !== provider) continue;
      this.moveNotify(imp.attachment);
      released += imp.attachment.npages;
    }
    return released;
  }

  *mapRange(req: MapRequest): Op<HookError | void> {
    const attachment = this.k.dmaBufAttach(this.dev, req.mm, req.start, req.npages, { moveNotify: (a) => this.moveNotify(a) });
    if (typeof attachment === "number") return { ret: attachment, page: req.start, reason: "dma_buf_attach failed: the range is not one exporter's device memory" };
    const imp: Import = { attachment, mapped: false, write: req.write };
    this.imports.push(imp);
    return yield* this.mapImport(imp);
  }

  *unmapRange(req: RangeRequest): Op<void> {
    const k = this.k;
    yield* waitForDma(k, this.inflight);
    const end = req.start + req.npages;
    dropEntries(k, this.dev, req.mm, req.start, end);
    // An import is released whole once any of it is unmapped: its other pages lose their entries first.
    this.imports = this.imports.filter((i) => {
      const a = i.attachment;
      if (a.mm !== req.mm || a.start >= end || req.start >= a.start + a.npages) return true;
      dropEntries(k, this.dev, a.mm, a.start, a.start + a.npages);
      if (i.mapped) k.dmaBufUnmapAttachment(a);
      k.dmaBufDetach(a);
      return false;
    });
  }

  *dma(req: DmaRequest): Op<Fence> {
    // A dynamic importer maps a moved buffer again before using it.
    for (const imp of this.imports) {
      const a = imp.attachment;
      if (!imp.mapped && a.mm === req.mm && a.start < req.start + req.npages && req.start < a.start + a.npages) yield* this.mapImport(imp);
    }
    const fence = this.k.dmaIssue(this.dev, req);
    track(this.inflight, fence);
    return fence;
  }
}

export const DMABUF_DRIVER: P2pDriver = {
  name: "dmabuf",
  description: "import the range as a dma-buf of its exporter (dynamic importer): move_notify stops DMA and unmaps before the exporter moves the buffer; the next DMA maps it again",
  create: (k: Kernel, dev: DriverDevice) => new DmaBufImporter(k, dev),
};


import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import type { Digest } from "../../oci/spec/digest.ts";
import type { CreateOptions, Instance, InstanceData, InstanceSpec, SnapshotCapability } from "../backend.ts";
import type { ImageSource } from "../image-source.ts";
import { captureUpperDisk, spawnUpperDisk } from "./snapshot-disk.ts";

/** What a VM backend's instance data has that its snapshots need. */
interface VmData {
  upper: string;
  image?: string;
  imageDigest: string;
}

/** What the snapshot keeps for a VM backend. */
interface VmSnapshotData extends InstanceData {
  disk: string;
  imageDigest: string;
  image?: string;
}

/**
 * The snapshot capability of a VM backend (qemu; firecracker and vz when they come): the
 * upper disk copied read-only, the lower pinned by its manifest digest, spawns booted on
 * that digest with their own copy of the disk. `vm.createWith` is the backend's create with
 * the disk made by the caller.
 */
export function vmSnapshots(
  vm: { createWith(spec: InstanceSpec, progress: Progress, opts: CreateOptions, makeDisk: (upper: string) => Promise<void>): Promise<InstanceData> },
  images: () => ImageSource,
): SnapshotCapability {
  return {
    async capture(instance: Instance, snap, progress) {
      const data = instance.data as unknown as VmData;
      if (!data.imageDigest) throw new ShedError("SHED_UNHEALTHY", `shed "${instance.name}" has no recorded image digest to pin; reset it first`);
      progress({ id: "disk", status: "copying the writable disk" });
      const disk = await captureUpperDisk(data.upper, snap.dir);
      progress({ id: "disk", status: `copied (${disk.copy})` });
      const kept: VmSnapshotData = { disk: disk.path, imageDigest: data.imageDigest, ...(data.image ? { image: data.image } : {}) };
      return { spawnImage: data.imageDigest, pinnedDigest: data.imageDigest, sizeBytes: disk.sizeBytes, copy: disk.copy, data: kept };
    },
    spawn(spec, snap, progress, opts = {}) {
      const data = snap.data as VmSnapshotData;
      // The upper disk is only valid over the lower it was written on: boot the pinned digest.
      return vm.createWith({ ...spec, image: data.imageDigest }, progress, opts, async (upper) => {
        progress({ id: "disk", status: `copying snapshot ${snap.name}` });
        const copy = await spawnUpperDisk(data.disk, upper);
        progress({ id: "disk", status: `copied (${copy})` });
      });
    },
    async remove() {
      // Everything is in the snapshot's directory, which the server removes.
    },
    async present(snap) {
      return images().store.blobSize((snap.data as VmSnapshotData).imageDigest as Digest) !== undefined;
    },
  };
}

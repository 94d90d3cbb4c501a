export { removeLink, type TapOwner, type VmNic, VmNetwork, type VmNetworkOptions } from "./host-network.ts";
export { findTool, hostFacts, isolationUnavailable } from "./host-tools.ts";
export { macAddress, tapName } from "./names.ts";
export { openTap } from "./tap-fd.ts";

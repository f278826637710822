import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Constructing the pack starts the analyzer's gRPC server, so nothing else lives here.
new PolicyPack("bot3-policy", { enforcementLevel: "advisory", policies });

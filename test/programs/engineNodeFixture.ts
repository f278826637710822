// The fake engine node group and IRSA role that engineOnDedicatedNodes.ts passes to the engine;
// kept apart so specs can import them without running the program.
export const engineNodes = {
  labels: { "bot3.io/node-group": "engine" },
  taint: { key: "bot3.io/dedicated", value: "engine", effect: "NoSchedule" as const },
};
export const engineRoleArn = "arn:aws:iam::123456789012:role/bot3-engine";

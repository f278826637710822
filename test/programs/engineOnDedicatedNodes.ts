// A test-only program: the engine on a cluster that has a dedicated engine node group and an
// IRSA role, which no stack has until the EKS cluster component exists.
import * as k8s from "@pulumi/kubernetes";
import { TradingEngine } from "../../components/tradingEngine";
import { loadSettings } from "../../settings";
import { engineNodes, engineRoleArn } from "./engineNodeFixture";

const settings = loadSettings();
new TradingEngine("bot3-engine", {
  namespace: settings.engine.namespace,
  image: `registry.example.com/bot3-engine@sha256:${"0".repeat(64)}`,
  engine: settings.engine,
  exchangeCredentials: settings.exchangeCredentials,
  engineNodes,
  awsRoleArn: engineRoleArn,
  provider: new k8s.Provider("dedicated-nodes-k8s", {}),
});

#include <gtest/gtest.h>

#include <string>

#include "lib/cni/conf.hpp"
#include "lib/cni/error.hpp"

namespace tether::cni {
namespace {

std::pair<int, std::string> conf_error(const std::string& text) {
  try {
    parse_netconf(text);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {-1, ""};
}

TEST(CniConf, ParsesWellKnownKeys) {
  const NetConf c = parse_netconf(R"({
    "cniVersion": "1.1.0", "name": "net1", "type": "tether", "bridge": "tb0", "mtu": 1400,
    "ipMasq": true,
    "ipam": {"type": "tether-ipam", "ranges": [[{"subnet": "10.22.0.0/16"}]]},
    "dns": {"nameservers": ["10.22.0.1"], "search": ["x.local"]},
    "capabilities": {"portMappings": true, "ips": false},
    "logFile": "/tmp/x.log", "logLevel": "debug",
    "unknownKey": {"kept": [1, 2]}
  })");
  EXPECT_EQ(c.cni_version_text, "1.1.0");
  EXPECT_EQ(c.version, kV110);
  EXPECT_EQ(c.name, "net1");
  EXPECT_EQ(c.type, "tether");
  EXPECT_TRUE(c.ip_masq);
  EXPECT_EQ(c.ipam["type"], "tether-ipam");
  EXPECT_EQ(c.ipam["ranges"][0][0]["subnet"], "10.22.0.0/16");
  EXPECT_EQ(c.dns.nameservers, std::vector<std::string>{"10.22.0.1"});
  EXPECT_EQ(c.dns.search, std::vector<std::string>{"x.local"});
  EXPECT_EQ(c.capabilities, (std::map<std::string, bool>{{"portMappings", true}, {"ips", false}}));
  EXPECT_EQ(c.log_file, "/tmp/x.log");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.raw["unknownKey"]["kept"][1], 2);  // unknown keys pass through
  EXPECT_EQ(c.raw["mtu"], 1400);
  EXPECT_FALSE(c.prev_result);
  EXPECT_TRUE(c.valid_attachments.empty());
}

TEST(CniConf, MissingVersionMeans010AndDefaults) {
  const NetConf c = parse_netconf(R"({"name": "n", "type": "t"})");
  EXPECT_EQ(c.version, kV010);
  EXPECT_EQ(c.cni_version_text, "");
  EXPECT_FALSE(c.ip_masq);
  EXPECT_TRUE(c.ipam.is_object());
  EXPECT_TRUE(c.ipam.empty());
  EXPECT_TRUE(c.runtime_config.port_mappings.empty());
}

TEST(CniConf, MalformedJsonIsCode6) {
  for (const char* bad : {"", "{", "{\"name\": }", "not json", "{\"a\":1} trailing", "\xff"}) {
    auto [code, msg] = conf_error(bad);
    EXPECT_EQ(code, kDecodeFailure) << bad << ": " << msg;
  }
  EXPECT_EQ(conf_error("[1, 2]").first, kDecodeFailure);
  EXPECT_EQ(conf_error("\"str\"").first, kDecodeFailure);
  EXPECT_EQ(conf_error("null").first, kDecodeFailure);
}

TEST(CniConf, OversizedStdinIsCode6) {
  std::string big = R"({"name": "n", "pad": ")" + std::string(kMaxStdinBytes, 'x') + "\"}";
  auto [code, msg] = conf_error(big);
  EXPECT_EQ(code, kDecodeFailure);
  EXPECT_NE(msg.find("limit"), std::string::npos) << msg;
}

TEST(CniConf, UnsupportedVersionIsCode1) {
  for (const char* v : {"0.5.0", "2.0.0", "1.0", "v1.0.0", "01.0.0", "1.0.0-rc1"}) {
    auto [code, msg] = conf_error(std::string(R"({"name": "n", "cniVersion": ")") + v + "\"}");
    EXPECT_EQ(code, kIncompatibleVersion) << v << ": " << msg;
    EXPECT_NE(msg.find(v), std::string::npos) << msg;
  }
  EXPECT_EQ(conf_error(R"({"name": "n", "cniVersion": 1})").first, kInvalidConfig);
}

TEST(CniConf, AllSupportedVersionsParse) {
  for (const auto& v : supported_version_strings()) {
    const NetConf c = parse_netconf(R"({"name": "n", "cniVersion": ")" + v + "\"}");
    EXPECT_EQ(c.version.to_string(), v);
  }
}

struct BadConf {
  const char* name;
  const char* text;
  const char* fragment;  // the key path the message must name
};

class CniConfErrors : public ::testing::TestWithParam<BadConf> {};

TEST_P(CniConfErrors, TypeErrorsAreCode7NamingTheKey) {
  auto [code, msg] = conf_error(GetParam().text);
  EXPECT_EQ(code, kInvalidConfig) << msg;
  EXPECT_NE(msg.find(GetParam().fragment), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Keys, CniConfErrors,
    ::testing::Values(
        BadConf{"MissingName", R"({"cniVersion": "1.0.0"})", "'name'"},
        BadConf{"EmptyName", R"({"name": ""})", "'name'"}, BadConf{"NameType", R"({"name": 5})", "'name'"},
        BadConf{"NameChars", R"({"name": "my net"})", "'name': value 'my net'"},
        BadConf{"NameLeadingDot", R"({"name": ".hidden"})", "'name'"},
        BadConf{"TypeSlash", R"({"name": "n", "type": "../bin/sh"})", "'type'"},
        BadConf{"TypeBackslash", R"({"name": "n", "type": "a\\b"})", "'type'"},
        BadConf{"IpamNotObject", R"({"name": "n", "ipam": "host-local"})", "'ipam'"},
        BadConf{"IpamTypeSlash", R"({"name": "n", "ipam": {"type": "/bin/x"}})", "'ipam.type'"},
        BadConf{"IpMasqType", R"({"name": "n", "ipMasq": "yes"})", "'ipMasq'"},
        BadConf{"DnsType", R"({"name": "n", "dns": []})", "'dns'"},
        BadConf{"DnsSearch", R"({"name": "n", "dns": {"search": "x"}})", "'dns.search'"},
        BadConf{"CapabilityValue", R"({"name": "n", "capabilities": {"portMappings": "true"}})",
                "'capabilities.portMappings'"},
        BadConf{"RuntimeConfigType", R"({"name": "n", "runtimeConfig": []})", "'runtimeConfig'"},
        BadConf{"PortMappingsType", R"({"name": "n", "runtimeConfig": {"portMappings": {}}})",
                "'runtimeConfig.portMappings'"},
        BadConf{"PortMappingEntry", R"({"name": "n", "runtimeConfig": {"portMappings": [5]}})",
                "'runtimeConfig.portMappings[0]'"},
        BadConf{"HostPortMissing", R"({"name": "n", "runtimeConfig": {"portMappings": [{"containerPort": 80}]}})",
                "'runtimeConfig.portMappings[0].hostPort'"},
        BadConf{"ContainerPortMissing", R"({"name": "n", "runtimeConfig": {"portMappings": [{"hostPort": 80}]}})",
                "'runtimeConfig.portMappings[0].containerPort'"},
        BadConf{"HostPortZero",
                R"({"name": "n", "runtimeConfig": {"portMappings": [{"hostPort": 0, "containerPort": 80}]}})",
                "'runtimeConfig.portMappings[0].hostPort': value 0"},
        BadConf{"HostPortRange",
                R"({"name": "n", "runtimeConfig": {"portMappings": [{"HostPort": 65536, "ContainerPort": 80}]}})",
                "'runtimeConfig.portMappings[0].HostPort': value 65536"},
        BadConf{"PortString",
                R"({"name": "n", "runtimeConfig": {"portMappings": [{"hostPort": "80", "containerPort": 80}]}})",
                "'runtimeConfig.portMappings[0].hostPort'"},
        BadConf{
            "Protocol",
            R"({"name": "n", "runtimeConfig": {"portMappings": [{"hostPort": 8, "containerPort": 8, "protocol": "icmp"}]}})",
            "'runtimeConfig.portMappings[0].protocol': value 'icmp'"},
        BadConf{
            "HostIp",
            R"({"name": "n", "runtimeConfig": {"portMappings": [{"hostPort": 8, "containerPort": 8, "HostIP": "localhost"}]}})",
            "'runtimeConfig.portMappings[0].HostIP': value 'localhost'"},
        BadConf{"IpRangesType", R"({"name": "n", "runtimeConfig": {"ipRanges": {}}})", "'runtimeConfig.ipRanges'"},
        BadConf{"RuntimeIps", R"({"name": "n", "runtimeConfig": {"ips": ["10.0.0.1", "ten"]}})",
                "'runtimeConfig.ips[1]': value 'ten'"},
        BadConf{"RuntimeMac", R"({"name": "n", "runtimeConfig": {"mac": "zz:00:00:00:00:00"}})", "'runtimeConfig.mac'"},
        BadConf{"ArgsType", R"({"name": "n", "args": "x"})", "'args'"},
        BadConf{"ArgsCniType", R"({"name": "n", "args": {"cni": []}})", "'args.cni'"},
        BadConf{"ArgsIps", R"({"name": "n", "args": {"cni": {"ips": ["10.0.0.1/33"]}}})", "'args.cni.ips[0]'"},
        BadConf{"ArgsMac", R"({"name": "n", "args": {"cni": {"mac": "00:11:22:33:44"}}})", "'args.cni.mac'"},
        BadConf{"PrevResultType", R"({"name": "n", "prevResult": []})", "'prevResult'"},
        BadConf{"PrevResultIps", R"({"name": "n", "cniVersion": "1.0.0", "prevResult": {"ips": [{"address": 1}]}})",
                "'prevResult.ips[0].address'"},
        BadConf{"AttachmentsType", R"({"name": "n", "cni.dev/valid-attachments": {}})", "'cni.dev/valid-attachments'"},
        BadConf{"AttachmentEntry", R"({"name": "n", "cni.dev/attachments": [{"containerID": 1}]})",
                "'cni.dev/attachments[0].containerID'"},
        BadConf{"LogLevelValue", R"({"name": "n", "logLevel": "loud"})", "'logLevel'"},
        BadConf{"LogFileType", R"({"name": "n", "logFile": false})", "'logFile'"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CniConf, PortMappingKeysInAnyCase) {
  const NetConf c = parse_netconf(R"({"name": "n", "runtimeConfig": {"portMappings": [
      {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
      {"HostPort": 5353, "ContainerPort": 53, "Protocol": "UDP", "HostIP": ""},
      {"hostport": 9000, "containerport": 9001, "protocol": "Sctp", "hostip": "127.0.0.1"},
      {"hostPort": 443, "containerPort": 8443, "hostIP": "fd00:0::1"}
  ]}})");
  using net::L4Proto;
  const std::vector<PortMapping> want{{8080, 80, L4Proto::Tcp, std::nullopt},
                                      {5353, 53, L4Proto::Udp, std::nullopt},
                                      {9000, 9001, L4Proto::Sctp, net::IpAddress::parse("127.0.0.1")},
                                      {443, 8443, L4Proto::Tcp, net::IpAddress::parse("fd00::1")}};
  EXPECT_EQ(c.runtime_config.port_mappings, want);
}

TEST(CniConf, RuntimeConfigAndArgs) {
  const NetConf c = parse_netconf(R"({"name": "n",
      "runtimeConfig": {"ips": ["10.0.0.9/24", "fd00::9"], "mac": "0A-58-0A-00-00-09",
                        "ipRanges": [[{"subnet": "10.9.0.0/16"}]], "bandwidth": {"ingressRate": 1}},
      "args": {"cni": {"ips": ["10.0.0.10"], "mac": "0a:58:0a:00:00:0a", "labels": [{"key": "a", "value": "b"}]}}})");
  EXPECT_EQ(c.runtime_config.ips, (std::vector<std::string>{"10.0.0.9/24", "fd00::9"}));
  EXPECT_EQ(c.runtime_config.mac, "0a:58:0a:00:00:09");  // normalised
  EXPECT_EQ(c.runtime_config.ip_ranges[0][0]["subnet"], "10.9.0.0/16");
  EXPECT_EQ(c.args.ips, std::vector<std::string>{"10.0.0.10"});
  EXPECT_EQ(c.args.mac, "0a:58:0a:00:00:0a");
  EXPECT_EQ(c.raw["runtimeConfig"]["bandwidth"]["ingressRate"], 1);
}

TEST(CniConf, PrevResultParsedInConfVersionAndConvertedUp) {
  // 0.4.0 config, versionless prevResult: read as 0.4.0.
  NetConf c = parse_netconf(R"({"name": "n", "cniVersion": "0.4.0", "prevResult": {
      "interfaces": [{"name": "eth0", "sandbox": "/proc/1/ns/net"}],
      "ips": [{"version": "4", "address": "10.0.0.2/24", "gateway": "10.0.0.1", "interface": 0}]}})");
  ASSERT_TRUE(c.prev_result);
  ASSERT_EQ(c.prev_result->ips.size(), 1u);
  EXPECT_EQ(c.prev_result->ips[0].address.to_string(), "10.0.0.2/24");
  EXPECT_EQ(c.prev_result->ips[0].interface, 0);
  EXPECT_EQ(c.prev_result->interfaces[0].sandbox, "/proc/1/ns/net");

  // 0.2.0 config: the prevResult is in the ip4 shape.
  c = parse_netconf(R"({"name": "n", "cniVersion": "0.2.0",
      "prevResult": {"ip4": {"ip": "10.1.0.2/16", "gateway": "10.1.0.1"}}})");
  ASSERT_TRUE(c.prev_result);
  ASSERT_EQ(c.prev_result->ips.size(), 1u);
  EXPECT_EQ(c.prev_result->ips[0].gateway->to_string(), "10.1.0.1");

  // A prevResult's own cniVersion wins.
  c = parse_netconf(R"({"name": "n", "cniVersion": "1.0.0",
      "prevResult": {"cniVersion": "0.2.0", "ip6": {"ip": "fd00::2/64"}}})");
  ASSERT_TRUE(c.prev_result);
  EXPECT_EQ(c.prev_result->ips[0].address.to_string(), "fd00::2/64");
}

TEST(CniConf, GcAttachmentsPreferValidAttachments) {
  NetConf c = parse_netconf(R"({"name": "n", "cniVersion": "1.1.0",
      "cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}],
      "cni.dev/attachments": [{"containerID": "legacy", "ifname": "eth1"}]})");
  EXPECT_EQ(c.valid_attachments, (std::vector<Attachment>{{"a", "eth0"}}));

  c = parse_netconf(R"({"name": "n", "cni.dev/attachments": [{"containerID": "legacy", "ifname": "eth1"}]})");
  EXPECT_EQ(c.valid_attachments, (std::vector<Attachment>{{"legacy", "eth1"}}));

  // An empty list and no list both mean "everything is stale" (libcni's GCNetworkList with a nil
  // list sends no key, and treats that itself as "nothing is valid").
  c = parse_netconf(R"({"name": "n", "cni.dev/valid-attachments": []})");
  EXPECT_TRUE(c.valid_attachments.empty());
  c = parse_netconf(R"({"name": "n", "cniVersion": "1.1.0"})");
  EXPECT_TRUE(c.valid_attachments.empty());
}

TEST(CniConf, NullValuesReadAsAbsent) {
  const NetConf c = parse_netconf(
      R"({"name": "n", "ipam": null, "dns": null, "prevResult": null, "ipMasq": null, "capabilities": {"ips": null}})");
  EXPECT_TRUE(c.capabilities.empty());
  EXPECT_FALSE(c.prev_result);
  EXPECT_FALSE(c.ip_masq);
  EXPECT_TRUE(c.ipam.empty());
}

}  // namespace
}  // namespace tether::cni

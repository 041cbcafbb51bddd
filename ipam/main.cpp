#include "ipam/ipam.hpp"

int main() { return tether::cni::run_plugin_main(tether::ipam::plugin_funcs()); }

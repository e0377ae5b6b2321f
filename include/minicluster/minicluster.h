/*
 * minicluster.h - the public C API a test links against.
 *
 * It grows with the cluster: today it names the version; creating a cluster,
 * submitting jobs and applications, injecting faults and reading metrics come
 * with the cluster and modes work (see the README's "What works today").
 */
#ifndef MINICLUSTER_H
#define MINICLUSTER_H

#define MINICLUSTER_VERSION_MAJOR 0
#define MINICLUSTER_VERSION_MINOR 1

#endif

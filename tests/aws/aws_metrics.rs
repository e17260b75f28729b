//! Server metrics from CloudWatch (moto): GetMetricData is called ceil(queries / 500) times — counted
//! by an interceptor on the client, independently of the product's own count — and the values come
//! back as per-node samples.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use crate::common_aws;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_cloudwatch::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use common_aws::Moto;
use elasticache_perf::aws::metrics::{
    cache_queries, ecs_queries, get_metric_data, to_loadgen_metrics, to_server_metrics,
    CACHE_METRICS,
};
use elasticache_perf::results::server::names;

#[derive(Debug, Default)]
struct CountCalls(Arc<AtomicUsize>);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_cloudwatch::error::BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_metric_data_is_batched_by_500_and_read_back() {
    let moto = Moto::start(false);
    // The product's own configuration (HTTP client, endpoint, credentials), plus a call counter.
    let conf = moto.clients().await.sdk_config;
    let calls = Arc::new(AtomicUsize::new(0));
    let cw = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&conf)
            .interceptor(CountCalls(calls.clone()))
            .build(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let start = now - now % 60 - 600;
    cw.put_metric_data()
        .namespace("AWS/ElastiCache")
        .metric_data(
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("CacheClusterId")
                        .value("ecp-m-001")
                        .build(),
                )
                .timestamp(DateTime::from_secs(start + 120))
                .value(42.0)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (metric, v) in [("CpuUtilized", 900.0), ("CpuReserved", 1024.0)] {
        cw.put_metric_data()
            .namespace("ECS/ContainerInsights")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(
                        Dimension::builder()
                            .name("ClusterName")
                            .value("ecp-m")
                            .build(),
                    )
                    .dimensions(
                        Dimension::builder()
                            .name("TaskDefinitionFamily")
                            .value("ecp-m-memtier")
                            .build(),
                    )
                    .timestamp(DateTime::from_secs(start + 120))
                    .value(v)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let q = ecs_queries("ecp-m", "ecp-m-memtier");
    let (values, _) = get_metric_data(&cw, &q, start, now).await.unwrap();
    let lg = to_loadgen_metrics(&q, &values);
    let pct = lg.samples[0].values[names::CPU_PERCENT];
    assert!((pct - 900.0 / 1024.0 * 100.0).abs() < 1e-9, "{lg:?}");
    calls.store(0, Ordering::SeqCst);

    for members in [1usize, 26, 27, 64] {
        let ids: Vec<String> = (1..=members).map(|i| format!("ecp-m-{i:03}")).collect();
        let q = cache_queries(&ids);
        assert_eq!(q.len(), members * CACHE_METRICS.len());
        calls.store(0, Ordering::SeqCst);
        let (values, made) = get_metric_data(&cw, &q, start, now).await.unwrap();
        let want = q.len().div_ceil(500);
        assert_eq!(calls.load(Ordering::SeqCst), want, "{} queries", q.len());
        assert_eq!(made, want);
        let m = to_server_metrics(&q, &values);
        let node = m.nodes.iter().find(|n| n.node == "ecp-m-001").unwrap();
        assert!(
            node.samples
                .iter()
                .any(|s| s.values.get(names::CPU_PERCENT) == Some(&42.0)),
            "{node:?}"
        );
    }
}

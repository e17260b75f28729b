//! The wire format of injected faults: which protocol a request speaks, and the throttling or 5xx
//! error response of each protocol as the AWS services send it (and as the SDK parses it).

use hyper::body::Bytes;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use super::{full, Body};

/// The wire protocol of a request, which decides the shape of its error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// awsJson 1.x (`x-amz-target`): ECS, Logs, Resource Groups Tagging.
    AwsJson,
    /// EC2's query dialect (form body with `Version=2016-11-15`).
    Ec2Query,
    /// awsQuery (form body with `Action=`): ElastiCache, IAM, CloudWatch, STS.
    AwsQuery,
    /// REST-XML, path-style: S3.
    S3,
}

/// What an injected fault looked like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The protocol's throttling error.
    Throttle,
    /// A plain 500 (`InternalError` / `InternalFailure`).
    Internal,
    /// A 503 (`ServiceUnavailable`; for EC2 and S3 the throttling codes already are 503s).
    Unavailable,
}

/// The protocol of a request, from its headers and (form) body.
pub(super) fn protocol(req: &hyper::http::request::Parts, body: &[u8]) -> Protocol {
    let form = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    if req.headers.contains_key("x-amz-target") {
        Protocol::AwsJson
    } else if form && has(b"Version=2016-11-15") {
        Protocol::Ec2Query
    } else if form && has(b"Action=") {
        Protocol::AwsQuery
    } else {
        Protocol::S3
    }
}

/// The operation of an awsJson or query request (`x-amz-target: <Service>.<Op>` or `Action=<Op>`).
pub(super) fn operation(req: &hyper::http::request::Parts, body: &[u8]) -> Option<String> {
    if let Some(t) = req.headers.get("x-amz-target") {
        let t = t.to_str().ok()?;
        return Some(t.rsplit('.').next().unwrap_or(t).to_string());
    }
    let form = std::str::from_utf8(body).ok()?;
    form.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_string)
}

/// The error response of `kind` in protocol `p`.
pub(super) fn fault(p: Protocol, kind: FaultKind, id: &str, head: bool) -> Response<Body> {
    use FaultKind::{Internal, Throttle, Unavailable};
    let (status, ctype, body) = match (p, kind) {
        (Protocol::AwsJson, _) => {
            let (s, code, msg) = match kind {
                Throttle => (400, "ThrottlingException", "Rate exceeded"),
                Internal => (500, "InternalFailure", "Internal failure"),
                Unavailable => (503, "ServiceUnavailable", "Service unavailable"),
            };
            let b = format!(r#"{{"__type":"{code}","message":"{msg}"}}"#);
            (s, "application/x-amz-json-1.1", b)
        }
        (Protocol::Ec2Query, _) => {
            let (s, code, msg) = match kind {
                Throttle | Unavailable => (503, "RequestLimitExceeded", "Request limit exceeded."),
                Internal => (500, "InternalError", "An internal error has occurred."),
            };
            let b = format!("<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>{id}</RequestID></Response>");
            (s, "text/xml;charset=UTF-8", b)
        }
        (Protocol::AwsQuery, _) => {
            let (s, ty, code, msg) = match kind {
                Throttle => (400, "Sender", "Throttling", "Rate exceeded"),
                Internal => (500, "Receiver", "InternalFailure", "Internal failure"),
                Unavailable => (503, "Receiver", "ServiceUnavailable", "Service unavailable"),
            };
            let b = format!("<ErrorResponse><Error><Type>{ty}</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>");
            (s, "text/xml", b)
        }
        (Protocol::S3, _) => {
            let (s, code, msg) = match kind {
                Throttle | Unavailable => (503, "SlowDown", "Please reduce your request rate."),
                Internal => (
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                ),
            };
            let b = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{msg}</Message><RequestId>{id}</RequestId></Error>");
            (s, "application/xml", b)
        }
    };
    // A HEAD response has no body; the SDK then goes by the status alone.
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(CONTENT_TYPE, ctype)
        .header(CONTENT_LENGTH, body.len())
        .header("x-amzn-requestid", id)
        .header("x-amz-request-id", id)
        .body(full(body))
        .unwrap()
}

//! Demo mode (`inbound demo`): the values that prefill a new server's wizard so that Enter
//! walks every step.

use super::wizard::Wizard;
use super::wizard::form::FieldId;
use super::wizard::guide::{Page, Path};

#[derive(Clone, PartialEq)]
pub struct Demo {
    /// The secret's expiry date (`YYYY-MM-DD`), typed on step 2.
    pub secret_expires: String,
    /// The form's fields.
    pub fields: Vec<(FieldId, String)>,
}

impl Demo {
    /// Fills a fresh wizard. The demo's app is a stand-in, so the wizard opens on the portal
    /// path with its fields filled (no Cloud Shell to run a script in).
    pub fn prefill(&self, w: &mut Wizard) {
        w.guide.page = Page::Portal;
        w.guide.path = Path::Portal;
        w.form.set_value(FieldId::Expires, &self.secret_expires);
        for (f, v) in &self.fields {
            w.form.set_value(*f, v);
        }
    }
}

impl std::fmt::Debug for Demo {
    /// The secret stays out of Debug, even the demo's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<(FieldId, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (*k, if k.is_secret() { "[redacted]" } else { v.as_str() }))
            .collect();
        f.debug_struct("Demo")
            .field("secret_expires", &self.secret_expires)
            .field("fields", &fields)
            .finish()
    }
}

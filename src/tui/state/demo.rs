//! Demo mode (`inbound demo`): the values that prefill a new server's wizard so that Enter
//! walks every step.

use super::wizard::Wizard;
use super::wizard::form::FieldId;

#[derive(Clone, PartialEq)]
pub struct Demo {
    /// The secret's expiry date (`YYYY-MM-DD`), typed on step 2.
    pub secret_expires: String,
    /// The form's fields.
    pub fields: Vec<(FieldId, String)>,
    /// The setup code the stand-in printed for its app, as the script would in Cloud Shell:
    /// the Cloud Shell path finds it in its field, as if pasted.
    pub setup_code: Option<crate::secret::Secret>,
}

impl Demo {
    /// Fills a fresh wizard. It opens on the choice of how to register the app, as it always
    /// does: both paths work against the stand-in (the portal's fields are filled; Cloud
    /// Shell's setup code is the stand-in's).
    pub fn prefill(&self, w: &mut Wizard) {
        w.form.set_value(FieldId::Expires, &self.secret_expires);
        for (f, v) in &self.fields {
            w.form.set_value(*f, v);
        }
        if let Some(code) = &self.setup_code {
            w.script.code.set(code.expose());
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
            .field("setup_code", &self.setup_code.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

// Placeholder so that the component library exists before its first source.
namespace mh {
int iforest_placeholder = 0;
}
